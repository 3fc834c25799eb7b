//! In-memory spatial index: one rstar R-tree per layer over asset bounding boxes, with the
//! assets themselves held behind `Arc` so queries hand them out without copying.
//!
//! Bulk-loaded from the store at start; updated only after a write has committed, so a
//! query never sees an asset the store does not hold.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use geo::Intersects;
use geo_types::{Coord, Point, Rect};
use rstar::{PointDistance, RTree, RTreeObject, AABB};

use crate::geom;
use crate::model::{Asset, AssetId, Layer, Pin};
use crate::search::{search_key, Built, NameIndex, Pending};
use crate::stats::facts::{AssetFact, PinFact};

/// A tree entry: an asset's bounding box and its slot in the layer's asset table.
///
/// Keeping geometry out of the tree keeps the tree small (40 bytes an entry) and lets a
/// query read exact geometry only for the few candidates whose boxes match. `point`
/// says the geometry is a point or points, so the tile renderer can decide what to draw
/// at low zoom without touching the asset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    pub env: AABB<[f64; 2]>,
    pub slot: u32,
    pub point: bool,
}

// The size docs/design.md quotes: what a national layer pays per asset.
const _: () = assert!(std::mem::size_of::<Entry>() == 40);

fn entry(a: &Asset, slot: u32) -> Entry {
    let point = matches!(
        a.geometry,
        geo_types::Geometry::Point(_) | geo_types::Geometry::MultiPoint(_)
    );
    Entry {
        env: envelope_of(a),
        slot,
        point,
    }
}

impl RTreeObject for Entry {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.env
    }
}

/// Distance to the box, in squared degrees: orders the nearest-neighbour walk.
impl PointDistance for Entry {
    fn distance_2(&self, p: &[f64; 2]) -> f64 {
        self.env.distance_2(p)
    }
}

fn envelope_of(a: &Asset) -> AABB<[f64; 2]> {
    match geom::bbox(&a.geometry) {
        Some(r) => AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
        // Validation refuses empty geometries; an empty one would never match a query.
        None => AABB::from_point([f64::NAN, f64::NAN]),
    }
}

fn aabb(r: &Rect<f64>) -> AABB<[f64; 2]> {
    AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y])
}

/// What the index keeps of each asset besides the asset itself: its search key, its
/// tree entry and its figures. Made where the assets are read, in parallel there.
#[derive(Debug, Default)]
pub struct Parts {
    keys: Vec<Box<str>>,
    entries: Vec<Entry>,
    facts: Vec<AssetFact>,
}

impl Parts {
    pub fn with_capacity(n: usize) -> Self {
        Parts {
            keys: Vec::with_capacity(n),
            entries: Vec::with_capacity(n),
            facts: Vec::with_capacity(n),
        }
    }

    /// The parts of `assets`, the first to go in slot `first`.
    pub fn of(assets: &[Arc<Asset>], first: u32) -> Self {
        let mut p = Parts::with_capacity(assets.len());
        for (i, a) in assets.iter().enumerate() {
            p.push(a, first + i as u32, search_key(a));
        }
        p
    }

    /// Adds the parts of `a`, to go in `slot`, whose search key is `key`.
    pub fn push(&mut self, a: &Asset, slot: u32, key: Box<str>) {
        self.keys.push(key);
        self.entries.push(entry(a, slot));
        self.facts.push(AssetFact::of(a));
    }

    /// Appends `other` (the parts of the assets that follow).
    pub fn extend(&mut self, other: Parts) {
        self.keys.extend(other.keys);
        self.entries.extend(other.entries);
        self.facts.extend(other.facts);
    }
}

/// The index of one layer.
#[derive(Debug, Default)]
pub struct LayerIndex {
    tree: RTree<Entry>,
    slots: Vec<Option<Arc<Asset>>>,
    /// The names, for search (see [`crate::search`]).
    names: NameIndex,
    by_id: rustc_hash::FxHashMap<AssetId, u32>,
    free: Vec<u32>,
    /// Each area's label point, worked out the first time a tile needs it (NaN: none).
    /// `f32` is a metre at Kolkata, plenty for placing a name, and keeps a national
    /// layer's table small.
    labels: Vec<OnceLock<[f32; 2]>>,
    /// Earliest and latest `updated_at`, worked out when first asked after a change (the
    /// temporal extent of `/collections` would otherwise scan the layer per request).
    times: OnceLock<Option<(String, String)>>,
    /// Each slot's figures, packed (see [`AssetFact`]; `live` false on an empty slot).
    facts: Vec<AssetFact>,
}

/// Where an area's name goes: a point inside its largest polygon (geo's interior point,
/// which keeps clear of holes and concave bays); `None` for points and lines.
fn label_point(g: &geo_types::Geometry<f64>) -> Option<Coord<f64>> {
    use geo::{Area, InteriorPoint};
    match g {
        geo_types::Geometry::Polygon(p) => p.interior_point().map(|p| p.0),
        geo_types::Geometry::MultiPolygon(mp) => {
            mp.0.iter()
                .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
                .and_then(|p| p.interior_point())
                .map(|p| p.0)
        }
        _ => None,
    }
}

impl LayerIndex {
    /// Builds the index in one pass (rstar's bulk load: far faster and better balanced
    /// than inserting one by one).
    pub fn bulk(assets: Vec<Asset>) -> Self {
        Self::bulk_shared(assets.into_iter().map(Arc::new).collect())
    }

    /// [`LayerIndex::bulk`] over assets already behind `Arc` (what loading from the store
    /// produces, so that a national layer is never held twice while the index is built).
    pub fn bulk_shared(assets: Vec<Arc<Asset>>) -> Self {
        // What each asset needs besides itself, worked out in two halves at once.
        let (low, high) = assets.split_at(assets.len() / 2);
        let parts = std::thread::scope(|s| {
            let high = s.spawn(|| Parts::of(high, low.len() as u32));
            let mut parts = Parts::of(low, 0);
            parts.extend(high.join().expect("a parts thread"));
            parts
        });
        Self::bulk_parts(assets, parts)
    }

    /// Builds the index of `assets` from their [`Parts`] (`parts` holding the `i`-th
    /// asset's at `i`): the tree on a second thread while this one maps the ids.
    pub fn bulk_parts(assets: Vec<Arc<Asset>>, parts: Parts) -> Self {
        let Parts {
            keys,
            entries,
            facts,
        } = parts;
        let t = std::time::Instant::now();
        let (tree, by_id) = std::thread::scope(|s| {
            let tree = s.spawn(move || {
                let tree = RTree::bulk_load(entries);
                tracing::debug!(ms = t.elapsed().as_millis() as u64, "tree bulk-loaded");
                tree
            });
            let mut by_id =
                rustc_hash::FxHashMap::with_capacity_and_hasher(assets.len(), Default::default());
            for (i, a) in assets.iter().enumerate() {
                by_id.insert(a.id, i as u32);
            }
            (tree.join().expect("the tree's thread"), by_id)
        });
        let slots: Vec<Option<Arc<Asset>>> = assets.into_iter().map(Some).collect();
        let labels = (0..slots.len()).map(|_| OnceLock::new()).collect();
        LayerIndex {
            tree,
            slots,
            names: NameIndex::from_keys(keys),
            by_id,
            free: Vec::new(),
            labels,
            times: OnceLock::new(),
            facts,
        }
    }

    /// The figures of every asset in the layer.
    pub fn facts(&self) -> impl Iterator<Item = &AssetFact> {
        self.facts.iter().filter(|f| f.live)
    }

    /// The figures of the assets whose boxes meet `r`.
    pub fn facts_in<'a>(&'a self, r: &Rect<f64>) -> impl Iterator<Item = &'a AssetFact> + 'a {
        self.tree
            .locate_in_envelope_intersecting(&aabb(r))
            .filter_map(|e| self.facts.get(e.slot as usize))
            .filter(|f| f.live)
    }

    /// Earliest and latest `updated_at` in the layer.
    pub fn updated_range(&self) -> Option<(String, String)> {
        self.times
            .get_or_init(|| {
                let mut it = self.slots.iter().flatten().map(|a| a.updated_at.as_str());
                let first = it.next()?;
                let (lo, hi) = it.fold((first, first), |(lo, hi), t| (lo.min(t), hi.max(t)));
                Some((lo.to_string(), hi.to_string()))
            })
            .clone()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Bounding box of the whole layer (lon/lat: west, south, east, north).
    pub fn extent(&self) -> Option<[f64; 4]> {
        if self.is_empty() {
            return None;
        }
        let e = self.tree.root().envelope();
        Some([e.lower()[0], e.lower()[1], e.upper()[0], e.upper()[1]])
    }

    pub fn get(&self, id: AssetId) -> Option<&Arc<Asset>> {
        self.by_id
            .get(&id)
            .and_then(|s| self.slots[*s as usize].as_ref())
    }

    /// Inserts or replaces an asset; returns the one it replaced.
    pub fn upsert(&mut self, asset: Asset) -> Option<Arc<Asset>> {
        let old = self.remove(asset.id);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                self.labels.push(OnceLock::new());
                self.facts.push(AssetFact::default());
                (self.slots.len() - 1) as u32
            }
        };
        self.labels[slot as usize] = OnceLock::new();
        self.times = OnceLock::new();
        self.tree.insert(entry(&asset, slot));
        self.by_id.insert(asset.id, slot);
        self.names.set(slot, search_key(&asset));
        self.facts[slot as usize] = AssetFact::of(&asset);
        self.slots[slot as usize] = Some(Arc::new(asset));
        old
    }

    /// Removes an asset; returns it if it was there.
    pub fn remove(&mut self, id: AssetId) -> Option<Arc<Asset>> {
        let slot = self.by_id.remove(&id)?;
        let old = self.slots[slot as usize].take()?;
        self.times = OnceLock::new();
        self.tree.remove(&entry(&old, slot));
        self.names.clear(slot);
        self.facts[slot as usize] = AssetFact::default();
        self.free.push(slot);
        Some(old)
    }

    /// Every asset of the layer.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Asset>> {
        self.slots.iter().flatten()
    }

    /// The best `limit` assets for the normalised query `q` with their scores, by score
    /// then [`crate::search::name_order`], possibly with others after them.
    pub fn search(&self, q: &str, limit: usize) -> Vec<(Arc<Asset>, u8)> {
        self.names
            .search(q, limit)
            .into_iter()
            .filter_map(|(slot, s)| Some((self.slot(slot)?.clone(), s)))
            .collect()
    }

    /// Every asset with its normalised search key: what a search scans without the index
    /// (the oracle the index is tested against).
    pub fn iter_keys(&self) -> impl Iterator<Item = (&Arc<Asset>, &str)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, a)| Some((a.as_ref()?, self.names.key(i as u32)?)))
    }

    /// Builds the name index now, on this thread (tests, benchmarks and small layers).
    pub fn build_names(&mut self) {
        if let Some(pending) = self.begin_names() {
            self.finish_names(pending.build());
        }
    }

    /// Claims a build of the name index and takes the snapshot it is built from (`None`
    /// while another build is under way). Build it with [`Pending::build`], off the lock, and put it in place with [`LayerIndex::finish_names`]; writes in between are
    /// kept.
    pub fn begin_names(&self) -> Option<Pending> {
        self.names.start_build(&self.slots)
    }

    /// Whether the name index is built (else search scans every name).
    pub fn names_built(&self) -> bool {
        self.names.is_built()
    }

    /// How many assets search finds by scanning rather than through the built name index.
    pub fn names_unindexed(&self) -> usize {
        self.names.unindexed()
    }

    /// Roughly how many bytes the name index's built part takes.
    pub fn names_bytes(&self) -> usize {
        self.names.base_bytes()
    }

    /// Puts a name index built from [`LayerIndex::begin_names`]'s snapshot in place.
    pub fn finish_names(&mut self, built: Built) {
        self.names.install(built, &self.slots);
    }

    /// Tree entries whose boxes meet the box: the tile renderer's candidates (clipping
    /// decides what is really inside). Resolve them with [`LayerIndex::slot`].
    pub fn candidates<'a>(&'a self, r: &Rect<f64>) -> impl Iterator<Item = &'a Entry> + 'a {
        self.tree.locate_in_envelope_intersecting(&aabb(r))
    }

    /// The label point of the area in a slot (see [`label_point`]).
    pub fn label(&self, slot: u32) -> Option<Coord<f64>> {
        let asset = self.slot(slot)?;
        let [x, y] = *self.labels.get(slot as usize)?.get_or_init(|| {
            label_point(&asset.geometry).map_or([f32::NAN; 2], |c| [c.x as f32, c.y as f32])
        });
        (!x.is_nan()).then(|| Coord {
            x: f64::from(x),
            y: f64::from(y),
        })
    }

    /// The asset in a slot, if it is still there.
    pub fn slot(&self, slot: u32) -> Option<&Arc<Asset>> {
        self.slots.get(slot as usize).and_then(|s| s.as_ref())
    }

    /// Assets whose geometry intersects the box (not just their bounding boxes).
    pub fn in_bbox(&self, r: &Rect<f64>) -> Vec<Arc<Asset>> {
        self.tree
            .locate_in_envelope_intersecting(&aabb(r))
            .filter_map(|e| self.slots[e.slot as usize].as_ref())
            .filter(|a| a.geometry.intersects(r))
            .cloned()
            .collect()
    }

    /// Assets whose geometry contains or touches the point (holes respected).
    pub fn containing(&self, p: Point<f64>) -> Vec<Arc<Asset>> {
        self.tree
            .locate_in_envelope_intersecting(&AABB::from_point([p.x(), p.y()]))
            .filter_map(|e| self.slots[e.slot as usize].as_ref())
            .filter(|a| a.geometry.intersects(&p))
            .cloned()
            .collect()
    }

    /// The `k` assets nearest to `p` within `max_radius_m` metres, nearest first, with
    /// ground distance to each one's nearest point (zero inside).
    ///
    /// Walks the tree's boxes in order of their distance from `p` in degrees, measuring
    /// each candidate exactly, and stops once a box's lower bound in metres
    /// ([`geom::min_ground_m`]) exceeds the k-th best distance found or the radius: no
    /// later box can hold anything nearer, so the answer is exact.
    pub fn nearest(&self, p: Point<f64>, k: usize, max_radius_m: f64) -> Vec<(Arc<Asset>, f64)> {
        if k == 0 || self.is_empty() {
            return Vec::new();
        }
        // Max-heap of the best k by distance, so the worst of them is at the top.
        let mut best: std::collections::BinaryHeap<Candidate> =
            std::collections::BinaryHeap::with_capacity(k + 1);
        for (e, d2) in self
            .tree
            .nearest_neighbor_iter_with_distance_2(&[p.x(), p.y()])
        {
            // Nothing nearer than this box can follow; past the radius, or past the
            // worst of a full top k, the answer is complete.
            let limit = match best.peek() {
                Some(worst) if best.len() == k => worst.distance,
                _ => max_radius_m,
            };
            if geom::min_ground_m(p, d2.sqrt()) > limit {
                break;
            }
            let Some(a) = self.slots[e.slot as usize].as_ref() else {
                continue;
            };
            let distance = geom::distance_m(p, &a.geometry);
            if distance > max_radius_m {
                continue;
            }
            best.push(Candidate {
                distance,
                asset: a.clone(),
            });
            if best.len() > k {
                best.pop();
            }
        }
        let mut out: Vec<(Arc<Asset>, f64)> =
            best.into_iter().map(|c| (c.asset, c.distance)).collect();
        out.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.id.cmp(&b.0.id)));
        out
    }
}

/// A nearest-search candidate, ordered by distance then id (worst last).
struct Candidate {
    distance: f64,
    asset: Arc<Asset>,
}

impl PartialEq for Candidate {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == std::cmp::Ordering::Equal
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Candidate {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.distance
            .total_cmp(&o.distance)
            .then(self.asset.id.cmp(&o.asset.id))
    }
}

/// Builds or rebuilds a layer's name index if it wants one (see
/// [`crate::search::NameIndex::wants_build`]): here for a small layer, else on a thread of
/// its own, off the layer's lock but for a snapshot of its slots and the swap at the end.
/// Search answers the same meanwhile, only slower.
pub fn refresh_names(index: &Arc<Index>, layer: Layer) {
    refresh_names_from(index, layer, 50_000);
}

/// [`refresh_names`], building on a thread of its own for a layer of `thread_from` assets
/// or more.
pub fn refresh_names_from(index: &Arc<Index>, layer: Layer, thread_from: usize) {
    let small = {
        let li = index.read(layer);
        if !li.names.wants_build() {
            return;
        }
        li.len() < thread_from
    };
    let shared = index.clone();
    // The snapshot of keys is taken on the building thread too: copying a national
    // layer's names takes most of a second.
    let work = move || {
        let index = shared;
        let t = std::time::Instant::now();
        let Some(pending) = index.read(layer).begin_names() else {
            return;
        };
        let n = pending.len();
        let built = pending.build();
        index.write(layer).finish_names(built);
        tracing::info!(layer = %layer, assets = n, ms = t.elapsed().as_millis() as u64, "name index built");
    };
    if small {
        work();
    } else if let Err(e) = std::thread::Builder::new()
        .name("name-index".into())
        .spawn(work)
    {
        tracing::warn!(error = %e, "could not start the name index's thread");
    }
}

/// The indexes of all layers, each behind its own lock so that a write to one layer
/// never stalls queries of another.
#[derive(Debug, Default)]
pub struct Index {
    layers: [RwLock<LayerIndex>; 4],
    complaints: RwLock<ComplaintIndex>,
}

fn pos(layer: Layer) -> usize {
    Layer::ALL.iter().position(|l| *l == layer).unwrap_or(0)
}

impl Index {
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces a layer's whole index.
    pub fn set_layer(&self, layer: Layer, index: LayerIndex) {
        *self.write(layer) = index;
    }

    /// Whether anything of `layers` (complaints included, when asked) meets the box: what
    /// decides if a tile's children may hold anything (`tiles build`).
    pub fn any_in(&self, layers: crate::tiles::LayerSet, r: &Rect<f64>) -> bool {
        layers
            .layers()
            .any(|l| self.read(l).candidates(r).next().is_some())
            || (layers.has_complaints() && self.complaints().in_rect(r).next().is_some())
    }

    /// The box holding every asset of `layers` (west, south, east, north); `None` if
    /// they are all empty.
    pub fn extent_of(&self, layers: crate::tiles::LayerSet) -> Option<[f64; 4]> {
        layers
            .layers()
            .filter_map(|l| self.read(l).extent())
            .reduce(|a, b| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            })
    }

    pub fn read(&self, layer: Layer) -> RwLockReadGuard<'_, LayerIndex> {
        // A panic while holding the lock leaves the data as consistent as the last
        // completed update; keep serving rather than poison every later request.
        self.layers[pos(layer)]
            .read()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub fn write(&self, layer: Layer) -> RwLockWriteGuard<'_, LayerIndex> {
        self.layers[pos(layer)]
            .write()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub fn complaints(&self) -> RwLockReadGuard<'_, ComplaintIndex> {
        self.complaints.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn complaints_mut(&self) -> RwLockWriteGuard<'_, ComplaintIndex> {
        self.complaints.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Finds an asset by id in any layer.
    pub fn get(&self, id: AssetId) -> Option<Arc<Asset>> {
        Layer::ALL
            .iter()
            .find_map(|l| self.read(*l).get(id).cloned())
    }
}

/// Complaint pins by position: for the complaints tile layer and the duplicate check.
#[derive(Debug, Default)]
pub struct ComplaintIndex {
    tree: RTree<rstar::primitives::GeomWithData<[f64; 2], i64>>,
    pins: HashMap<i64, Arc<Pin>>,
    /// Every pin's figures, packed and in one array (see [`PinFact`]); `fact_at` finds a
    /// pin's row.
    facts: Vec<PinFact>,
    fact_at: HashMap<i64, usize>,
}

impl ComplaintIndex {
    pub fn bulk(pins: Vec<Pin>) -> ComplaintIndex {
        let tree = RTree::bulk_load(
            pins.iter()
                .map(|p| rstar::primitives::GeomWithData::new([p.lon, p.lat], p.id))
                .collect(),
        );
        let facts: Vec<PinFact> = pins.iter().map(PinFact::of).collect();
        let fact_at = facts.iter().enumerate().map(|(i, f)| (f.id, i)).collect();
        let pins = pins.into_iter().map(|p| (p.id, Arc::new(p))).collect();
        ComplaintIndex {
            tree,
            pins,
            facts,
            fact_at,
        }
    }

    /// Every pin's figures.
    pub fn facts(&self) -> &[PinFact] {
        &self.facts
    }

    pub fn len(&self) -> usize {
        self.pins.len()
    }

    pub fn pins(&self) -> impl Iterator<Item = &Arc<Pin>> {
        self.pins.values()
    }

    pub fn is_empty(&self) -> bool {
        self.pins.is_empty()
    }

    /// Adds or replaces a pin; returns the one it replaced. A pin showing an earlier step
    /// of the complaint's timeline than the one held is ignored (a state read from the
    /// database before a newer one was put here).
    pub fn upsert(&mut self, pin: Pin) -> Option<Arc<Pin>> {
        if self
            .pins
            .get(&pin.id)
            .is_some_and(|held| held.event > pin.event)
        {
            return None;
        }
        let fact = PinFact::of(&pin);
        match self.fact_at.get(&pin.id) {
            Some(i) => self.facts[*i] = fact,
            None => {
                self.fact_at.insert(pin.id, self.facts.len());
                self.facts.push(fact);
            }
        }
        let old = self.pins.insert(pin.id, Arc::new(pin.clone()));
        if let Some(o) = &old {
            self.tree
                .remove(&rstar::primitives::GeomWithData::new([o.lon, o.lat], o.id));
        }
        self.tree.insert(rstar::primitives::GeomWithData::new(
            [pin.lon, pin.lat],
            pin.id,
        ));
        old
    }

    pub fn get(&self, id: i64) -> Option<&Arc<Pin>> {
        self.pins.get(&id)
    }

    /// Pins inside a lon/lat box.
    pub fn in_rect<'a>(&'a self, r: &Rect<f64>) -> impl Iterator<Item = &'a Arc<Pin>> + 'a {
        self.tree
            .locate_in_envelope(&aabb(r))
            .filter_map(|e| self.pins.get(&e.data))
    }

    /// Pins within `radius_m` metres of `p`, nearest first, with their distances.
    pub fn within(&self, p: Point<f64>, radius_m: f64) -> Vec<(Arc<Pin>, f64)> {
        // A box comfortably larger than the circle (degrees of longitude shrink with
        // latitude), then the exact distance.
        let dlat = radius_m / 110_000.0 * 1.01;
        let dlon = dlat / p.y().to_radians().cos().max(0.01);
        let r = Rect::new((p.x() - dlon, p.y() - dlat), (p.x() + dlon, p.y() + dlat));
        let mut out: Vec<(Arc<Pin>, f64)> = self
            .in_rect(&r)
            .map(|pin| {
                let d =
                    geom::distance_m(p, &geo_types::Geometry::Point(Point::new(pin.lon, pin.lat)));
                (pin.clone(), d)
            })
            .filter(|(_, d)| *d <= radius_m)
            .collect();
        out.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.id.cmp(&b.0.id)));
        out
    }
}
