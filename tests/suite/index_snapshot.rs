//! The index snapshot: a start that reads it back, then applies the changes made since,
//! holds exactly what a start reading the whole register from the database holds (the
//! oracle); a damaged, foreign or outdated snapshot is never used, and no bytes of one
//! make the reader panic.

use crate::common;

use std::path::{Path, PathBuf};

use common::{asset, rect_polygon};
use heritage_atlas::atlas::{Atlas, AtlasOptions, Started};
use heritage_atlas::model::{AssetId, Kind, Layer, Role};
use heritage_atlas::store::{AuditEntry, EditContext};

fn change() -> EditContext {
    EditContext::import("snapshot test")
}

fn options(db: &Path, snapshot: Option<PathBuf>) -> AtlasOptions {
    AtlasOptions {
        load_bundled: true,
        photos_dir: db.with_extension("photos"),
        index_snapshot: snapshot,
        ..Default::default()
    }
}

async fn open(db: &Path, snapshot: Option<PathBuf>) -> Atlas {
    let store = common::open_store(db).await;
    Atlas::open(store, &options(db, snapshot))
        .await
        .expect("atlas")
}

/// Everything the index holds that a snapshot could get wrong, layer by layer: every
/// asset as held (lock and located ward included), in id order, with its search key;
/// what a box finds; what searches answer.
fn held(atlas: &Atlas) -> Vec<String> {
    let mut out = Vec::new();
    for &layer in Layer::ALL {
        let li = atlas.index().read(layer);
        let mut assets: Vec<_> = li
            .iter_keys()
            .map(|(a, k)| (a.clone(), k.to_string()))
            .collect();
        assets.sort_by_key(|(a, _)| a.id);
        for (a, k) in &assets {
            out.push(format!("{layer} {a:?} key={k}"));
        }
        let mut facts: Vec<String> = li.facts().map(|f| format!("{f:?}")).collect();
        facts.sort();
        out.push(format!("{layer} facts {facts:?}"));
        let r = geo_types::Rect::new((88.30, 22.50), (88.40, 22.60));
        let mut found: Vec<i64> = li.in_bbox(&r).iter().map(|a| a.id.0).collect();
        found.sort();
        out.push(format!("{layer} in box {found:?}"));
        drop(li);
        // Searches as answered: the best 50 in rank order.
        for q in ["ghat", "victoria", "পুকুর", "her-0", "snapshot", "a"] {
            let hits: Vec<(i64, u8)> =
                heritage_atlas::query::search(atlas.index(), q, 50, &[layer])
                    .into_iter()
                    .map(|h| (h.asset.id.0, h.score))
                    .collect();
            out.push(format!("{layer} search {q} {hits:?}"));
        }
    }
    out
}

fn assert_same(a: &[String], b: &[String]) {
    assert_eq!(a.len(), b.len(), "different numbers of lines");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x, y);
    }
}

/// The writes made between a snapshot and the next start: a new building, a renamed
/// one, one delisted, and a heritage lock recorded (a lock is not a version).
async fn change_things(atlas: &Atlas) -> AssetId {
    let mut new = asset(
        Layer::Heritage,
        Kind::Building,
        "SNAP-1".into(),
        rect_polygon(88.3512, 22.5448, 0.0004, 0.0004, 0.0),
    );
    new.attrs.name = Some("Snapshot Test Hall".into());
    atlas.upsert(&new, &change()).await.expect("created");
    let heritage: Vec<_> = atlas
        .index()
        .read(Layer::Heritage)
        .iter()
        .cloned()
        .collect();
    let renamed = &heritage[0];
    let mut edit = asset(
        Layer::Heritage,
        renamed.kind,
        renamed.code.clone(),
        renamed.geometry.clone(),
    );
    edit.attrs = renamed.attrs.clone();
    edit.attrs.name = Some("Renamed After The Snapshot".into());
    atlas.upsert(&edit, &change()).await.expect("renamed");
    let gone = heritage[1].id;
    atlas
        .delist(gone, "snapshot test", &change())
        .await
        .expect("delisted")
        .expect("was listed");
    let locked = heritage[2].id;
    let officer = atlas
        .store()
        .put_user(
            "officer",
            Role::Officer,
            None,
            "x",
            &heritage_atlas::model::now_rfc3339(),
        )
        .await
        .expect("user");
    let log = AuditEntry {
        actor: "officer".into(),
        role: Some("officer".into()),
        action: "asset.heritage_lock".into(),
        subject: heritage[2].code.clone(),
        public: true,
        detail: serde_json::json!({"to": "released"}),
    };
    atlas
        .record_heritage_lock(
            locked,
            "released",
            None,
            "test",
            officer.id,
            &heritage_atlas::model::now_rfc3339(),
            &log,
        )
        .await
        .expect("lock recorded");
    gone
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_from_the_snapshot_holds_what_a_start_from_the_database_holds() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("atlas.db");
    let snap = dir.path().join("atlas.index");
    {
        let first = open(&db, Some(snap.clone())).await;
        assert!(matches!(first.started(), Some(Started::FromDatabase(_))));
        first.save_snapshot(&snap).await.expect("written");
        // Right after: nothing to catch up, the same as the database.
        let again = open(&db, Some(snap.clone())).await;
        assert_eq!(
            again.started(),
            Some(&Started::FromSnapshot { caught_up: 0 })
        );
        assert_same(&held(&again), &held(&first));
        let gone = change_things(&first).await;
        // A later start applies the four writes made since.
        let later = open(&db, Some(snap.clone())).await;
        assert!(
            matches!(later.started(), Some(Started::FromSnapshot { caught_up }) if *caught_up >= 2),
            "{:?}",
            later.started()
        );
        let oracle = open(&db, None).await;
        assert_same(&held(&later), &held(&oracle));
        assert_same(&held(&later), &held(&first));
        assert!(later.index().get(gone).is_none());
        assert_eq!(
            later
                .index()
                .read(Layer::Heritage)
                .iter()
                .filter(|a| a.lock.as_ref().is_some_and(|l| l.state == "released"))
                .count(),
            1
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_foreign_or_outdated_snapshot_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("atlas.db");
    let snap = dir.path().join("atlas.index");
    let first = open(&db, Some(snap.clone())).await;
    first.save_snapshot(&snap).await.expect("written");
    let good = std::fs::read(&snap).unwrap();
    let oracle = held(&first);
    let not_used = |a: &Atlas, why: &str| match a.started() {
        Some(Started::FromDatabase(w)) => assert!(w.contains(why), "{w} (expected {why})"),
        other => panic!("the snapshot was used: {other:?}"),
    };

    // A byte changed in the middle (an asset's bytes), and the file cut short.
    let mut bad = good.clone();
    bad[good.len() / 2] ^= 0x55;
    std::fs::write(&snap, &bad).unwrap();
    let a = open(&db, Some(snap.clone())).await;
    not_used(&a, "checksum");
    assert_same(&held(&a), &oracle);
    std::fs::write(&snap, &good[..good.len() - 100]).unwrap();
    let a = open(&db, Some(snap.clone())).await;
    not_used(&a, "format");
    assert_same(&held(&a), &oracle);

    // Another database's snapshot.
    let other_db = dir.path().join("other.db");
    std::fs::write(&snap, &good).unwrap();
    let other = open(&other_db, Some(snap.clone())).await;
    not_used(&other, "another database");

    // A ward moved since: the wards other assets were placed in may have changed.
    let ward = first
        .index()
        .read(Layer::Wards)
        .iter()
        .next()
        .cloned()
        .expect("a ward");
    let mut moved = asset(
        Layer::Wards,
        ward.kind,
        ward.code.clone(),
        ward.geometry.clone(),
    );
    moved.attrs = ward.attrs.clone();
    moved.attrs.name = Some("Ward renamed".into());
    first.upsert(&moved, &change()).await.expect("ward edited");
    let a = open(&db, Some(snap.clone())).await;
    not_used(&a, "wards");
    assert_same(&held(&a), &held(&open(&db, None).await));
}

/// Any single byte changed, and any length cut off, gives an error or the very same
/// snapshot back; never a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_damage_to_a_snapshot_makes_the_reader_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("atlas.db");
    let snap = dir.path().join("atlas.index");
    let atlas = open(&db, None).await;
    atlas.save_snapshot(&snap).await.expect("written");
    let good = std::fs::read(&snap).unwrap();
    let (_, layers) = heritage_atlas::snapshot::read(&snap, &|_| None).expect("reads");
    let count: usize = layers.iter().map(|l| l.assets.len()).sum();
    let damaged = dir.path().join("damaged.index");
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    // The header and the framing are small: every byte of the first 200, then samples.
    let positions: Vec<usize> = (0..200.min(good.len()))
        .chain((0..300).map(|_| next(good.len())))
        .collect();
    for at in positions {
        let mut bad = good.clone();
        bad[at] ^= 1 << next(8);
        std::fs::write(&damaged, &bad).unwrap();
        if let Ok((_, layers)) = heritage_atlas::snapshot::read(&damaged, &|_| None) {
            let n: usize = layers.iter().map(|l| l.assets.len()).sum();
            assert_eq!(n, count, "byte {at} changed and read back otherwise");
        }
        let _ = heritage_atlas::snapshot::read_header(&damaged);
    }
    for cut in (0..40)
        .map(|_| next(good.len()))
        .chain([0, 1, 8, good.len() - 1])
    {
        std::fs::write(&damaged, &good[..cut]).unwrap();
        assert!(heritage_atlas::snapshot::read(&damaged, &|_| None).is_err());
    }
}
