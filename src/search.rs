//! The name index behind `/search`: answers in the same order as a scan of every name, without
//! the scan.
//!
//! A hit's rank is its score (0: a name equals the query; 1: a name starts with it; 2: a word
//! after the first starts with it; 3: it occurs anywhere), then the shorter display name,
//! the name, the id (see [`score`] and [`name_order`]). The index answers each score in turn:
//!
//! - every name and every word start (a position after a space) is an entry in one of two
//!   arrays sorted by the text from there on, so the names or words starting with the query
//!   are one binary-searched range (exact names lead that range, ending where the next byte
//!   is the separator);
//! - assets are numbered by [`name_order`] (their *ordinal*), so the best assets of a range
//!   are its smallest ordinals, taken lazily in ascending order with a range-minimum table;
//! - the remaining substring matches come from character-trigram bitmaps (roaring), walked in
//!   ordinal order and checked against the key, stopping once enough are found.
//!
//! The arrays cannot take inserts cheaply, so the index is a built *base* plus the keys of
//! slots written since (scanned as before, and few), with the base's entries for those slots
//! masked. When the written slots outgrow an eighth of the base, a new base is built from a
//! snapshot off the lock and installed; until a layer's first base is built, search scans
//! every key, so results never depend on whether the index is ready.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as AtomicOrdering};
use std::sync::Arc;

use roaring::RoaringBitmap;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::model::Asset;

/// Separates the parts of a key (name, Bengali name, code) and the keys in a base's text.
/// Below every byte normalised text holds, so a name sorts before its longer extensions.
pub const SEP: char = '\u{1f}';
const SEP_B: u8 = 0x1f;
const NONE: u32 = u32::MAX;
/// Pads trigrams at the end of a part, so that every position starts one (a one- or
/// two-character query is then a range of trigrams). Above every `char`.
const END: u32 = 0x1F_FFFF;

/// How well a normalised key matches a normalised query; lower is better.
/// `spaced_q` is `q` with a leading space, made once per search rather than per key.
pub fn score(key: &str, q: &str, spaced_q: &str) -> Option<u8> {
    if !key.contains(q) {
        return None;
    }
    let mut best: Option<u8> = None;
    for part in key.split(SEP) {
        let s = if part == q {
            0
        } else if part.starts_with(q) {
            1
        } else if part.contains(spaced_q) {
            2
        } else if part.contains(q) {
            3
        } else {
            continue;
        };
        best = Some(best.map_or(s, |b| b.min(s)));
    }
    best
}

/// The order of hits with equal scores: shorter display names first, then by name, then id.
pub fn name_order(a: &Asset, b: &Asset) -> Ordering {
    let (na, nb) = (a.display_name(), b.display_name());
    na.chars()
        .count()
        .cmp(&nb.chars().count())
        .then(na.cmp(nb))
        .then(a.id.cmp(&b.id))
}

/// An asset's search key: its name, Bengali name and code, each normalised, joined by [`SEP`].
pub fn search_key(a: &Asset) -> Box<str> {
    let mut s = String::new();
    for part in [
        a.attrs.name.as_deref(),
        a.attrs.name_bn.as_deref(),
        Some(a.code.as_str()),
    ]
    .into_iter()
    .flatten()
    {
        if !s.is_empty() {
            s.push(SEP);
        }
        s.push_str(&crate::text::normalize(part));
    }
    s.into_boxed_str()
}

/// The name index of one layer, by slot (the layer index's asset table).
pub struct NameIndex {
    /// Per slot: its key, or empty when the slot is empty or its key is in the base.
    keys: Vec<Box<str>>,
    base: Option<Box<Base>>,
    /// Per slot: its ordinal in the base, or [`NONE`].
    of_slot: Vec<u32>,
    /// Per base ordinal: its slot has been written or emptied since the base was built.
    stale: Vec<bool>,
    /// Slots whose keys are in `keys` (kept only once there is a base).
    fresh: FxHashSet<u32>,
    /// Which layer index this is, so a base built for one never lands in its replacement.
    id: u64,
    building: AtomicBool,
}

impl std::fmt::Debug for NameIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NameIndex")
            .field("base", &self.base.as_ref().map(|b| b.slot_of.len()))
            .field("fresh", &self.fresh.len())
            .finish_non_exhaustive()
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A base built off the lock, waiting to be installed.
pub struct Built {
    base: Box<Base>,
    /// The assets it was built from, by ordinal: an entry is valid only while its slot
    /// still holds the same asset.
    assets: Vec<Arc<Asset>>,
    id: u64,
}

/// What a base is built from, taken under the layer's lock (see [`NameIndex::start_build`]):
/// each live slot's asset and key.
pub struct Pending {
    items: Vec<(u32, Arc<Asset>, Box<str>)>,
    id: u64,
}

impl Pending {
    /// How many assets it holds.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Builds the base. Costly: run it off the layer's lock.
    pub fn build(self) -> Built {
        let (base, assets) = Base::build(self.items);
        Built {
            base: Box::new(base),
            assets,
            id: self.id,
        }
    }
}

impl Default for NameIndex {
    fn default() -> Self {
        NameIndex {
            keys: Vec::new(),
            base: None,
            of_slot: Vec::new(),
            stale: Vec::new(),
            fresh: FxHashSet::default(),
            id: NEXT_ID.fetch_add(1, AtomicOrdering::Relaxed),
            building: AtomicBool::new(false),
        }
    }
}

impl NameIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// An index whose slot `i` holds `keys[i]` (every slot live), with no base yet.
    pub fn from_keys(keys: Vec<Box<str>>) -> Self {
        NameIndex {
            of_slot: vec![NONE; keys.len()],
            keys,
            ..Self::default()
        }
    }

    fn grow(&mut self, slot: u32) {
        let n = slot as usize + 1;
        if self.keys.len() < n {
            self.keys.resize_with(n, Default::default);
            self.of_slot.resize(n, NONE);
        }
    }

    fn unbase(&mut self, slot: u32) {
        if let Some(o) = self.of_slot.get_mut(slot as usize) {
            if *o != NONE {
                self.stale[*o as usize] = true;
                *o = NONE;
            }
        }
    }

    /// A slot now holds an asset with this key.
    pub fn set(&mut self, slot: u32, key: Box<str>) {
        self.grow(slot);
        self.unbase(slot);
        self.keys[slot as usize] = key;
        if self.base.is_some() {
            self.fresh.insert(slot);
        }
    }

    /// A slot is now empty.
    pub fn clear(&mut self, slot: u32) {
        self.grow(slot);
        self.unbase(slot);
        self.keys[slot as usize] = Box::default();
        self.fresh.remove(&slot);
    }

    /// The key of a slot.
    pub fn key(&self, slot: u32) -> Option<&str> {
        match (self.of_slot.get(slot as usize), &self.base) {
            (Some(&o), Some(b)) if o != NONE => Some(b.key(o)),
            _ => self
                .keys
                .get(slot as usize)
                .map(|k| &**k)
                .filter(|k| !k.is_empty()),
        }
    }

    /// Whether a (new) base would pay: none yet, or the slots written since the last one
    /// outnumber an eighth of it. False while one is being built.
    pub fn wants_build(&self) -> bool {
        if self.building.load(AtomicOrdering::Relaxed) {
            return false;
        }
        match &self.base {
            None => true,
            Some(b) => self.fresh.len() > 1_024.max(b.slot_of.len() / 8),
        }
    }

    /// Claims the right to build a base and takes what it is built from, `slots` being the
    /// layer's asset table; `None` if a build is already under way.
    pub fn start_build(&self, slots: &[Option<Arc<Asset>>]) -> Option<Pending> {
        self.building
            .compare_exchange(false, true, AtomicOrdering::AcqRel, AtomicOrdering::Relaxed)
            .ok()?;
        let items = slots
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let slot = i as u32;
                Some((slot, a.as_ref()?.clone(), self.key(slot)?.into()))
            })
            .collect();
        Some(Pending { items, id: self.id })
    }

    /// Puts a base in place. Its entries for slots written since its snapshot are masked;
    /// those slots' keys are already in `keys`.
    pub fn install(&mut self, built: Built, slots: &[Option<Arc<Asset>>]) {
        if built.id != self.id {
            return;
        }
        self.building.store(false, AtomicOrdering::Release);
        let Built { base, assets, .. } = built;
        let n = base.slot_of.len();
        // Every slot written since the snapshot went through `set`, so its key is in
        // `keys`: the base only masks it.
        let mut of_slot = vec![NONE; slots.len().max(self.of_slot.len())];
        let mut stale = vec![false; n];
        for (ord, a) in assets.iter().enumerate() {
            let slot = base.slot_of[ord] as usize;
            match slots.get(slot) {
                Some(Some(now)) if Arc::ptr_eq(now, a) => of_slot[slot] = ord as u32,
                _ => stale[ord] = true,
            }
        }
        self.keys.resize_with(of_slot.len(), Default::default);
        let mut fresh = FxHashSet::default();
        for (slot, a) in slots.iter().enumerate() {
            if of_slot[slot] != NONE {
                self.keys[slot] = Box::default();
            } else if a.is_some() {
                fresh.insert(slot as u32);
            }
        }
        self.of_slot = of_slot;
        self.stale = stale;
        self.fresh = fresh;
        self.base = Some(base);
    }

    /// How many slots' keys are outside the base (every one before the first base).
    pub fn unindexed(&self) -> usize {
        if self.base.is_some() {
            self.fresh.len()
        } else {
            self.keys.iter().filter(|k| !k.is_empty()).count()
        }
    }

    /// Whether a base is in place.
    pub fn is_built(&self) -> bool {
        self.base.is_some()
    }

    /// Roughly how many bytes the base takes (text, sorted starts, tables, trigram lists).
    pub fn base_bytes(&self) -> usize {
        let Some(b) = &self.base else { return 0 };
        let starts = |s: &Starts| {
            (s.pos.len() + s.ord.len()) * 4
                + s.min.levels.iter().map(|l| l.len() * 4).sum::<usize>()
        };
        b.text.len()
            + (b.starts.len() + b.slot_of.len()) * 4
            + starts(&b.heads)
            + starts(&b.words)
            + b.grams.len() * 8
            + b.lists.iter().map(|l| l.serialized_size()).sum::<usize>()
            + self.stale.len()
            + self.of_slot.len() * 4
    }

    /// The best `limit` matches of the normalised query `q` by score and [`name_order`]
    /// (as slots with scores), plus possibly others: callers sort and cut.
    pub fn search(&self, q: &str, limit: usize) -> Vec<(u32, u8)> {
        let spaced = format!(" {q}");
        let mut out = Vec::new();
        let Some(base) = &self.base else {
            for (slot, key) in self.keys.iter().enumerate() {
                if let Some(s) = score(key, q, &spaced) {
                    out.push((slot as u32, s));
                }
            }
            return out;
        };
        for &slot in &self.fresh {
            if let Some(s) = score(&self.keys[slot as usize], q, &spaced) {
                out.push((slot, s));
            }
        }
        for (ord, s) in base.search(q, &spaced, limit, &self.stale) {
            out.push((base.slot_of[ord as usize], s));
        }
        out
    }
}

/// The built part of a name index (see the module's description).
struct Base {
    /// Keys in ordinal order, each followed by [`SEP`].
    text: String,
    /// Per ordinal, where its key starts in `text` (one more at the end).
    starts: Vec<u32>,
    slot_of: Vec<u32>,
    /// Where each part (name, Bengali name, code) starts.
    heads: Starts,
    /// Where each later word of a part starts.
    words: Starts,
    /// Trigrams, sorted, and the ordinals holding each.
    grams: Vec<u64>,
    lists: Vec<RoaringBitmap>,
}

/// Positions in the base's text sorted by the text from there on, with their ordinals and
/// a range-minimum table over the ordinals.
#[derive(Default)]
struct Starts {
    pos: Vec<u32>,
    ord: Vec<u32>,
    min: MinTable,
}

fn gram(a: u32, b: u32, c: u32) -> u64 {
    (u64::from(a) << 42) | (u64::from(b) << 21) | u64::from(c)
}

/// Every trigram of a part, one starting at each character (padded with [`END`]).
fn part_grams(part: &str, mut f: impl FnMut(u64)) {
    let mut cs = part.chars().map(u32::from);
    let (mut a, mut b, mut c) = (END, END, END);
    if let Some(x) = cs.next() {
        a = x;
        b = cs.next().unwrap_or(END);
        c = cs.next().unwrap_or(END);
    }
    while a != END {
        f(gram(a, b, c));
        (a, b, c) = (b, c, cs.next().unwrap_or(END));
    }
}

/// The trigrams of the keys in `text` (ordinal `o`'s from `starts[o]`), sorted, each with
/// the ordinals holding it. Ordinals are gathered a roaring container's span (65,536) at a
/// time and appended in order, which is far cheaper than inserting each one.
fn trigrams(text: &str, starts: &[u32]) -> (Vec<u64>, Vec<RoaringBitmap>) {
    let n = starts.len() - 1;
    let mut at: FxHashMap<u64, usize> = FxHashMap::default();
    let mut grams: Vec<u64> = Vec::new();
    let mut lists: Vec<RoaringBitmap> = Vec::new();
    let mut pending: Vec<Vec<u32>> = Vec::new();
    for chunk in (0..n).step_by(1 << 16) {
        for ord in chunk..(chunk + (1 << 16)).min(n) {
            let key = &text[starts[ord] as usize..starts[ord + 1] as usize - 1];
            let ord = ord as u32;
            for part in key.split(SEP) {
                part_grams(part, |g| {
                    let i = *at.entry(g).or_insert_with(|| {
                        grams.push(g);
                        lists.push(RoaringBitmap::new());
                        pending.push(Vec::new());
                        grams.len() - 1
                    });
                    if pending[i].last() != Some(&ord) {
                        pending[i].push(ord);
                    }
                });
            }
        }
        for (list, p) in lists.iter_mut().zip(&mut pending) {
            if !p.is_empty() {
                list.append(p.drain(..)).expect("ordinals ascend");
            }
        }
    }
    let mut order: Vec<usize> = (0..grams.len()).collect();
    order.sort_unstable_by_key(|i| grams[*i]);
    let mut lists: Vec<Option<RoaringBitmap>> = lists.into_iter().map(Some).collect();
    (
        order.iter().map(|i| grams[*i]).collect(),
        order.iter().filter_map(|i| lists[*i].take()).collect(),
    )
}

/// The first `n` where `pred` is false, given it is true then false over `0..n`.
fn partition(mut lo: usize, mut hi: usize, pred: impl Fn(usize) -> bool) -> usize {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

impl Starts {
    /// Sorts `(pos, ord)` by the text from `pos`, then builds the table.
    fn new(text: &[u8], mut v: Vec<(u64, u32, u32)>) -> Starts {
        // The first eight bytes as a number settle most comparisons without touching the
        // text.
        v.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| text[a.1 as usize..].cmp(&text[b.1 as usize..]))
        });
        let pos: Vec<u32> = v.iter().map(|e| e.1).collect();
        let ord: Vec<u32> = v.iter().map(|e| e.2).collect();
        let min = MinTable::new(&ord);
        Starts { pos, ord, min }
    }

    /// The entries whose text starts with `q`, and where those that equal it end.
    fn range(&self, text: &[u8], q: &[u8]) -> (usize, usize, usize) {
        let at = |i: usize| &text[self.pos[i] as usize..];
        let lo = partition(0, self.pos.len(), |i| at(i) < q);
        let hi = partition(lo, self.pos.len(), |i| at(i).starts_with(q));
        let exact = partition(lo, hi, |i| at(i).get(q.len()) == Some(&SEP_B));
        (lo, exact, hi)
    }
}

/// The first eight bytes from `pos`, big-endian: orders like the text.
fn prefix8(text: &[u8], pos: usize) -> u64 {
    let mut b = [0u8; 8];
    let end = (pos + 8).min(text.len());
    b[..end - pos].copy_from_slice(&text[pos..end]);
    u64::from_be_bytes(b)
}

impl Base {
    fn build(mut items: Vec<(u32, Arc<Asset>, Box<str>)>) -> (Base, Vec<Arc<Asset>>) {
        items.sort_by(|a, b| name_order(&a.1, &b.1));
        let n = items.len();
        let mut text = String::new();
        let mut starts = Vec::with_capacity(n + 1);
        let mut slot_of = Vec::with_capacity(n);
        let mut assets = Vec::with_capacity(n);
        for (slot, a, key) in items {
            starts.push(text.len() as u32);
            text.push_str(&key);
            text.push(SEP);
            slot_of.push(slot);
            assets.push(a);
        }
        starts.push(text.len() as u32);
        let (heads, words, (grams, lists)) = std::thread::scope(|s| {
            let t = text.as_bytes();
            let starts = &starts;
            let heads = s.spawn(move || {
                let mut v = Vec::with_capacity(n * 3);
                for ord in 0..n {
                    let (a, b) = (starts[ord] as usize, starts[ord + 1] as usize);
                    let mut p = a;
                    while p < b {
                        v.push((prefix8(t, p), p as u32, ord as u32));
                        p += t[p..b].iter().position(|c| *c == SEP_B).unwrap_or(b - p) + 1;
                    }
                }
                Starts::new(t, v)
            });
            let words = s.spawn(move || {
                let mut v = Vec::new();
                for ord in 0..n {
                    let (a, b) = (starts[ord] as usize, starts[ord + 1] as usize);
                    for p in a + 1..b {
                        if t[p - 1] == b' ' {
                            v.push((prefix8(t, p), p as u32, ord as u32));
                        }
                    }
                }
                Starts::new(t, v)
            });
            let text = &text;
            let grams = s.spawn(move || trigrams(text, starts));
            (
                heads.join().expect("heads"),
                words.join().expect("words"),
                grams.join().expect("grams"),
            )
        });
        (
            Base {
                text,
                starts,
                slot_of,
                heads,
                words,
                grams,
                lists,
            },
            assets,
        )
    }

    fn key(&self, ord: u32) -> &str {
        let o = ord as usize;
        &self.text[self.starts[o] as usize..self.starts[o + 1] as usize - 1]
    }

    /// The best `limit` live ordinals for `q` by score then ordinal.
    fn search(&self, q: &str, spaced: &str, limit: usize, stale: &[bool]) -> Vec<(u32, u8)> {
        let t = self.text.as_bytes();
        let mut out: Vec<(u32, u8)> = Vec::new();
        let mut taken: FxHashSet<u32> = FxHashSet::default();
        if limit == 0 {
            return out;
        }
        let (lo, exact, hi) = self.heads.range(t, q.as_bytes());
        let (wlo, _, whi) = self.words.range(t, q.as_bytes());
        let classes = [
            (&self.heads, lo, exact, 0),
            (&self.heads, lo, hi, 1),
            (&self.words, wlo, whi, 2),
        ];
        for (starts, a, b, class) in classes {
            for i in starts.min.ascending(&starts.ord, a, b) {
                let ord = starts.ord[i];
                if stale[ord as usize] || !taken.insert(ord) {
                    continue;
                }
                out.push((ord, class));
                if out.len() == limit {
                    return out;
                }
            }
        }
        // Substrings elsewhere in a word: ordinals holding the query's trigrams, in order.
        let mut take = |ord: u32| -> bool {
            if !stale[ord as usize]
                && !taken.contains(&ord)
                && score(self.key(ord), q, spaced) == Some(3)
            {
                out.push((ord, 3));
            }
            out.len() == limit
        };
        let cs: Vec<u32> = q.chars().map(u32::from).collect();
        if cs.len() >= 3 {
            let mut lists: Vec<&RoaringBitmap> = Vec::with_capacity(cs.len() - 2);
            for w in cs.windows(3) {
                match self.grams.binary_search(&gram(w[0], w[1], w[2])) {
                    Ok(i) => lists.push(&self.lists[i]),
                    Err(_) => return out,
                }
            }
            lists.sort_by_key(|l| l.len());
            let mut all = lists[0].clone();
            for l in &lists[1..] {
                all &= *l;
            }
            for ord in &all {
                if take(ord) {
                    break;
                }
            }
        } else {
            // Every occurrence starts a padded trigram: merge the lists of the trigrams
            // that begin with the query.
            let (a, b) = match cs[..] {
                [c] => (gram(c, 0, 0), gram(c, END, END)),
                [c, d] => (gram(c, d, 0), gram(c, d, END)),
                _ => return out,
            };
            let from = self.grams.partition_point(|g| *g < a);
            let to = self.grams.partition_point(|g| *g <= b);
            let mut iters: Vec<_> = self.lists[from..to].iter().map(|l| l.iter()).collect();
            let mut heap: BinaryHeap<Reverse<(u32, usize)>> = BinaryHeap::new();
            for (i, it) in iters.iter_mut().enumerate() {
                if let Some(v) = it.next() {
                    heap.push(Reverse((v, i)));
                }
            }
            let mut last = NONE;
            while let Some(Reverse((ord, i))) = heap.pop() {
                if let Some(v) = iters[i].next() {
                    heap.push(Reverse((v, i)));
                }
                if ord == last {
                    continue;
                }
                last = ord;
                if take(ord) {
                    break;
                }
            }
        }
        out
    }
}

/// Positions of the smallest values over ranges of an array: a sparse table over blocks of
/// [`BLOCK`] values, scanning the partial blocks at the ends.
#[derive(Default)]
struct MinTable {
    /// `levels[j][b]`: where the smallest value of blocks `b..b + 2^j` is.
    levels: Vec<Vec<u32>>,
}

const BLOCK: usize = 32;

impl MinTable {
    fn new(v: &[u32]) -> MinTable {
        let blocks = v.len().div_ceil(BLOCK);
        let first: Vec<u32> = (0..blocks)
            .map(|b| {
                let (a, e) = (b * BLOCK, ((b + 1) * BLOCK).min(v.len()));
                (a..e).min_by_key(|&i| (v[i], i)).unwrap_or(a) as u32
            })
            .collect();
        let mut levels = vec![first];
        let mut span = 1;
        while span * 2 <= blocks {
            let prev = levels.last().expect("a level");
            let next: Vec<u32> = (0..=blocks - span * 2)
                .map(|b| {
                    let (x, y) = (prev[b], prev[b + span]);
                    if v[y as usize] < v[x as usize] {
                        y
                    } else {
                        x
                    }
                })
                .collect();
            levels.push(next);
            span *= 2;
        }
        MinTable { levels }
    }

    /// Where the smallest value of `v[l..r]` is (`l < r`).
    fn argmin(&self, v: &[u32], l: usize, r: usize) -> usize {
        let better = |a: usize, b: usize| if v[b] < v[a] { b } else { a };
        let (bl, br) = (l.div_ceil(BLOCK), r / BLOCK);
        let mut best = l;
        for i in l..(bl * BLOCK).min(r) {
            best = better(best, i);
        }
        if bl < br {
            let j = (usize::BITS - 1 - (br - bl).leading_zeros()) as usize;
            let lv = &self.levels[j];
            best = better(best, lv[bl] as usize);
            best = better(best, lv[br - (1 << j)] as usize);
        }
        for i in (br * BLOCK).max(l)..r {
            best = better(best, i);
        }
        best
    }

    /// The positions of `v[l..r]` in ascending order of their values, lazily.
    fn ascending<'a>(&'a self, v: &'a [u32], l: usize, r: usize) -> Ascending<'a> {
        let mut heap = BinaryHeap::new();
        if l < r {
            let m = self.argmin(v, l, r);
            heap.push(Reverse((v[m], m, l, r)));
        }
        Ascending {
            table: self,
            v,
            heap,
        }
    }
}

struct Ascending<'a> {
    table: &'a MinTable,
    v: &'a [u32],
    heap: BinaryHeap<Reverse<(u32, usize, usize, usize)>>,
}

impl Iterator for Ascending<'_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        let Reverse((_, m, l, r)) = self.heap.pop()?;
        for (a, b) in [(l, m), (m + 1, r)] {
            if a < b {
                let i = self.table.argmin(self.v, a, b);
                self.heap.push(Reverse((self.v[i], i, a, b)));
            }
        }
        Some(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_table_lists_a_range_in_ascending_order() {
        let mut x: u64 = 7;
        let v: Vec<u32> = (0..2_000)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 40) as u32 % 500
            })
            .collect();
        let t = MinTable::new(&v);
        for (l, r) in [
            (0, 2_000),
            (0, 1),
            (5, 6),
            (31, 33),
            (17, 1_500),
            (640, 704),
            (1_999, 2_000),
        ] {
            let got: Vec<u32> = t.ascending(&v, l, r).map(|i| v[i]).collect();
            let mut want = v[l..r].to_vec();
            want.sort_unstable();
            assert_eq!(got, want, "{l}..{r}");
        }
    }
}
