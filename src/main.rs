//! heritage-atlas: parse the command line, open the store, and serve or run a command.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use heritage_atlas::atlas::{Atlas, AtlasOptions};
use heritage_atlas::config::{
    default_photos_dir, ApikeyCommand, AuditCommand, BackupArgs, Cli, Command, DocumentsCommand,
    ExportArgs, GenerateArgs, ImportArgs, MigrateArgs, Scale, ServeArgs, TilesBuildArgs,
    TilesCommand, UserCommand,
};
use heritage_atlas::http::serve::ServeOptions;
use heritage_atlas::import::{self, ImportOptions};
use heritage_atlas::store::Store;
use heritage_atlas::tiles::archive::{self, Archive};
use heritage_atlas::{export, synth, AppState};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    limit_malloc_arenas();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// glibc keeps up to 8 malloc arenas a core and rarely returns their freed memory: the
/// 10-minute soak grew 11% after its first minute with the default, and stayed flat
/// (+5.4%, ~60 MiB lower) with two (BENCHMARKS.md, "Soak"). `MALLOC_ARENA_MAX` in the
/// environment still wins.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; called once, before any
        // other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve(Box::default())) {
        Command::Serve(args) => serve(&cli.db, *args).await,
        Command::Import(args) => import_cmd(&cli.db, args).await,
        Command::Export(args) => export_cmd(&cli.db, args).await,
        Command::Generate(args) => generate(args),
        Command::GenerateComplaints(args) => generate_complaints(&cli.db, args).await,
        Command::GenerateBasemap(args) => {
            let n = heritage_atlas::tiles::synth_basemap::write(&args.output)?;
            println!("wrote {n} tiles to {}", args.output.display());
            Ok(())
        }
        Command::Tiles(TilesCommand::Build(args)) => tiles_build(&cli.db, args).await,
        Command::User(UserCommand::Add {
            name,
            role,
            ward,
            duties,
        }) => user_add(&cli.db, &name, role, ward, &duties).await,
        Command::Apikey(ApikeyCommand::Add { label }) => apikey_add(&cli.db, &label).await,
        Command::Audit(AuditCommand::Verify) => audit_verify(&cli.db).await,
        Command::Backup(args) => backup(&cli.db, args).await,
        Command::Documents(c) => documents_cmd(&cli.db, c).await,
        Command::Migrate(args) => migrate(args).await,
    }
}

async fn migrate(args: MigrateArgs) -> anyhow::Result<()> {
    let photos = args
        .photos_dir
        .unwrap_or_else(|| default_photos_dir(&args.from.to_string_lossy()));
    let r = heritage_atlas::migrate::migrate(&args.from, &args.to, &photos).await?;
    eprintln!(
        "copied {} rows of {} tables, {} photos and {} documents ({:.1} MB) in {:.1} s; \
         every row read back equal; audit chain of {} entries holds",
        r.rows,
        r.tables.len(),
        r.photos,
        r.documents,
        r.blob_bytes as f64 / 1e6,
        r.seconds,
        r.audit.entries,
    );
    if !r.skipped.is_empty() {
        eprintln!("not in the source, left empty: {}", r.skipped.join(", "));
    }
    println!("{}", serde_json::to_string(&r)?);
    Ok(())
}

async fn documents_cmd(db: &str, c: DocumentsCommand) -> anyhow::Result<()> {
    use heritage_atlas::blobs::BlobStore;
    use heritage_atlas::documents::{extract, ingest};
    let photos_of = |p: Option<std::path::PathBuf>| {
        p.unwrap_or_else(|| default_photos_dir(db))
            .join("documents")
    };
    match c {
        DocumentsCommand::ReadPdf { file } => extract::read_pdf_main(&file),
        DocumentsCommand::Ingest {
            dir,
            manifest,
            report,
            actor,
            photos_dir,
        } => {
            let store = Store::open(db)
                .await
                .with_context(|| format!("opening database {db}"))?;
            let blobs = BlobStore::for_store(&store, &photos_of(photos_dir), "documents")?;
            let bar =
                indicatif::ProgressBar::new(0).with_style(indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} files ({per_sec}, {eta} left)",
                )?);
            let started = Instant::now();
            let r = ingest::ingest(&store, &blobs, &dir, &manifest, &actor, &|done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })
            .await;
            bar.finish_and_clear();
            store.close().await;
            let r = r?;
            eprintln!(
                "{} added, {} already on record, {} failed ({:.1} MB in {:.1} s); their text is read by `serve` or `documents extract`",
                r.added,
                r.already_on_record,
                r.failed.len(),
                r.bytes as f64 / 1e6,
                started.elapsed().as_secs_f64()
            );
            for f in &r.failed {
                eprintln!("  line {}: {}: {}", f.line, f.file, f.reason);
            }
            if let Some(path) = report {
                let mut w = csv::Writer::from_path(&path)?;
                for f in &r.failed {
                    w.serialize(f)?;
                }
                w.flush()?;
            }
            println!(
                "{}",
                serde_json::to_string(&serde_json::json!({
                    "added": r.added,
                    "already_on_record": r.already_on_record,
                    "failed": r.failed.len(),
                }))?
            );
            anyhow::ensure!(r.failed.is_empty(), "{} lines failed", r.failed.len());
            Ok(())
        }
        DocumentsCommand::Extract {
            workers,
            photos_dir,
        } => {
            let store = Store::open(db)
                .await
                .with_context(|| format!("opening database {db}"))?
                .named(&format!(
                    "{}:documents-extract",
                    heritage_atlas::store::host_name()
                ));
            store
                .requeue_text_jobs(&heritage_atlas::model::now_rfc3339(), true)
                .await?;
            let blobs = BlobStore::for_store(&store, &photos_of(photos_dir), "documents")?;
            let queued = |counts: &[(String, i64)]| {
                counts
                    .iter()
                    .filter(|(s, _)| s == "queued" || s == "running")
                    .map(|(_, n)| *n)
                    .sum::<i64>()
            };
            let total = queued(&store.text_job_counts().await?) as u64;
            let bar = indicatif::ProgressBar::new(total).with_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} documents read ({per_sec}, {eta} left)",
                )?,
            );
            let worker = extract::Worker {
                store: store.clone(),
                blobs,
                reader: extract::Reader::new(None),
                wake: Default::default(),
            };
            let started = Instant::now();
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..workers.max(1) {
                let w = worker.clone();
                let bar = bar.clone();
                tasks.spawn(async move {
                    while w.step().await? {
                        bar.inc(1);
                    }
                    Ok::<_, heritage_atlas::store::StoreError>(())
                });
            }
            while let Some(r) = tasks.join_next().await {
                r??;
            }
            bar.finish_and_clear();
            let counts = store.text_job_counts().await?;
            store.close().await;
            eprintln!(
                "read {} documents in {:.1} s; jobs now: {}",
                bar.position(),
                started.elapsed().as_secs_f64(),
                counts
                    .iter()
                    .map(|(s, n)| format!("{s} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok(())
        }
    }
}

async fn backup(db: &str, args: BackupArgs) -> anyhow::Result<()> {
    let store = Store::open(db)
        .await
        .with_context(|| format!("opening database {db}"))?;
    let photos = args.photos_dir.unwrap_or_else(|| default_photos_dir(db));
    let report = heritage_atlas::backup::backup(&store, &photos, &args.dir).await;
    store.close().await;
    let report = report?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

async fn audit_verify(db: &str) -> anyhow::Result<()> {
    let store = Store::open(db)
        .await
        .with_context(|| format!("opening database {db}"))?;
    let check = store.verify_audit().await?;
    store.close().await;
    println!("{}", serde_json::to_string(&check)?);
    match check.broken_at {
        None => Ok(()),
        Some(seq) => anyhow::bail!("the audit log does not hold from entry {seq} on"),
    }
}

async fn user_add(
    db: &str,
    name: &str,
    role: heritage_atlas::model::Role,
    ward: Option<i64>,
    duties: &[String],
) -> anyhow::Result<()> {
    let name = heritage_atlas::auth::check_account(name, role, ward)?;
    let known = heritage_atlas::applications::AppType::bundled()?
        .iter()
        .flat_map(|t| t.stages.values().map(|s| s.duty.clone()))
        .collect::<std::collections::BTreeSet<_>>();
    if let Some(d) = duties.iter().find(|d| !known.contains(*d)) {
        anyhow::bail!(
            "--duty {d}: no stage of any application type needs it (duties: {})",
            known.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']);
    heritage_atlas::auth::check_password(password)?;
    let hash = heritage_atlas::auth::hash_password(password)?;
    let store = Store::open(db)
        .await
        .with_context(|| format!("opening database {db}"))?;
    let u = store
        .put_user(
            name,
            role,
            ward,
            &hash,
            &heritage_atlas::model::now_rfc3339(),
        )
        .await?;
    store.set_duties(u.id, duties).await?;
    store.close().await;
    if duties.is_empty() {
        eprintln!("user {} ({}) saved", u.name, u.role);
    } else {
        eprintln!(
            "user {} ({}; duties {}) saved",
            u.name,
            u.role,
            duties.join(", ")
        );
    }
    Ok(())
}

async fn generate_complaints(
    db: &str,
    args: heritage_atlas::config::GenerateComplaintsArgs,
) -> anyhow::Result<()> {
    let store = Store::open(db)
        .await
        .with_context(|| format!("opening database {db}"))?;
    if !args.force && store.has_real_complaints().await? {
        store.close().await;
        anyhow::bail!(
            "{db} holds real complaints; synthetic ones would mix into its figures (--force to write them anyway)"
        );
    }
    let started = Instant::now();
    let n = store
        .generate_complaints(
            args.count,
            args.seed,
            args.months,
            time::OffsetDateTime::now_utc(),
        )
        .await;
    store.close().await;
    eprintln!(
        "wrote {} synthetic complaints in {:.1} s",
        n?,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn apikey_add(db: &str, label: &str) -> anyhow::Result<()> {
    let store = Store::open(db)
        .await
        .with_context(|| format!("opening database {db}"))?;
    let key = heritage_atlas::auth::new_secret();
    store
        .add_api_key(
            &heritage_atlas::auth::sha256_hex(&key),
            label,
            &heritage_atlas::model::now_rfc3339(),
        )
        .await?;
    store.close().await;
    eprintln!("API key for {label:?} (shown once; stored only as a hash):");
    println!("{key}");
    Ok(())
}

/// Reads a service-area polygon from a GeoJSON file.
fn service_area(path: &std::path::Path) -> anyhow::Result<geo_types::MultiPolygon<f64>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let gj: geojson::GeoJson = text
        .parse()
        .with_context(|| format!("{} is not GeoJSON", path.display()))?;
    let geoms: Vec<geojson::Geometry> = match gj {
        geojson::GeoJson::Geometry(g) => vec![g],
        geojson::GeoJson::Feature(f) => f.geometry.into_iter().collect(),
        geojson::GeoJson::FeatureCollection(fc) => {
            fc.features.into_iter().filter_map(|f| f.geometry).collect()
        }
    };
    let mut polys = Vec::new();
    for g in geoms {
        match geo_types::Geometry::<f64>::try_from(g)? {
            geo_types::Geometry::Polygon(p) => polys.push(p),
            geo_types::Geometry::MultiPolygon(mp) => polys.extend(mp.0),
            other => anyhow::bail!(
                "{}: the service area must be polygons, not {other:?}",
                path.display()
            ),
        }
    }
    anyhow::ensure!(!polys.is_empty(), "{}: no polygon in it", path.display());
    Ok(geo_types::MultiPolygon(polys))
}

/// Every minute, takes back the claims on messages and text jobs left untouched past
/// `store::STALE_CLAIM`: their server is gone and not coming back under its name.
async fn take_back_stale_claims(store: Store) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let now = heritage_atlas::model::now_rfc3339();
        match store.requeue_text_jobs(&now, false).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(n, "text jobs of a server gone for 15 minutes queued again"),
            Err(e) => tracing::warn!("taking back stale text jobs: {e}"),
        }
        match store.requeue_notifications(&now, false).await {
            Ok((0, 0)) => {}
            Ok((again, uncertain)) => tracing::warn!(
                again,
                uncertain,
                "messages of a server gone for 15 minutes: due again, or waiting for staff"
            ),
            Err(e) => tracing::warn!("taking back stale messages: {e}"),
        }
    }
}

/// `tiles build`: the register's tiles into one PMTiles archive, with a progress bar and a
/// table of tiles and bytes by zoom.
async fn tiles_build(db: &str, args: TilesBuildArgs) -> anyhow::Result<()> {
    use heritage_atlas::tiles::{self, build, LayerSet};
    let started = Instant::now();
    let layers = LayerSet::parse(&args.layers).map_err(|e| anyhow::anyhow!("--layers: {e}"))?;
    let store = Store::open(db)
        .await
        .with_context(|| format!("opening database {db}"))?;
    let index_snapshot = store.file().map(|f| f.with_extension("index"));
    let atlas = Atlas::open(
        store,
        &AtlasOptions {
            // As `serve`'s first start: a new database is the bundled Kolkata register.
            load_bundled: true,
            tile_cache_bytes: 0,
            photos_dir: default_photos_dir(db),
            index_snapshot,
            ..Default::default()
        },
    )
    .await?;
    let wanted: Vec<_> = layers.layers().collect();
    let past = match &args.as_of {
        Some(t) => {
            let t = heritage_atlas::model::as_of_instant(t)
                .map_err(|e| anyhow::anyhow!("--as-of: {e}"))?;
            atlas.register_at(&t, &wanted).await?
        }
        None => None,
    };
    let index: &heritage_atlas::index::Index = match &past {
        Some(p) => p,
        None => atlas.index(),
    };
    let bbox = args
        .bbox
        .or_else(|| index.extent_of(layers))
        .ok_or_else(|| anyhow::anyhow!("the layers are empty: nothing to build"))?;
    let mut metadata = serde_json::Map::new();
    metadata.insert(
        "name".into(),
        format!("heritage-atlas: {}", layers.name()).into(),
    );
    metadata.insert("attribution".into(), tiles::ATTRIBUTION.into());
    if let Some(t) = &args.as_of {
        metadata.insert("as_of".into(), t.clone().into());
    }
    let opts = build::BuildOptions {
        layers,
        minzoom: args.minzoom,
        maxzoom: args.maxzoom,
        bbox,
        threads: args.threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
        }),
        metadata,
    };
    let bar = indicatif::ProgressBar::new_spinner().with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {pos} tiles drawn ({per_sec}) {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let out = args.output.clone();
    let reports = {
        let bar = bar.clone();
        tokio::task::block_in_place(|| build::build(index, &opts, &out, &|n| bar.inc(n)))?
    };
    bar.finish_and_clear();
    println!("zoom  drawn  tiles  bytes");
    for r in &reports {
        println!(
            "{:>4} {:>6} {:>6} {:>6}",
            r.zoom, r.visited, r.tiles, r.bytes
        );
    }
    let tiles: usize = reports.iter().map(|r| r.tiles).sum();
    let bytes: u64 = reports.iter().map(|r| r.bytes).sum();
    let size = std::fs::metadata(&args.output)?.len();
    println!(
        "wrote {tiles} tiles ({bytes} bytes of tiles, {size} bytes in all) to {} in {:.1} s",
        args.output.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The open-file limit raised from its soft value to the hard one, as nginx's
/// `worker_rlimit_nofile` and Go's runtime do: connections (1,024 by default), the
/// database and big tiles' memory files (up to 256) would pass the usual soft 1,024.
fn raise_open_file_limit() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getrlimit, setrlimit, Resource};
        let mut limit = getrlimit(Resource::Nofile);
        if limit.current.is_some() && limit.current != limit.maximum {
            limit.current = limit.maximum;
            if let Err(e) = setrlimit(Resource::Nofile, limit) {
                tracing::debug!("open-file limit not raised: {e}");
            }
        }
    }
}

async fn serve(db: &str, args: ServeArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    raise_open_file_limit();
    let notifiers = notifiers(&args)?;
    // Archives first: a wrong file is said before the register (seconds at scale) loads.
    let mut archives = Vec::new();
    if let Some(file) = &args.basemap {
        archives.push(Archive::open(archive::BASEMAP, file).await?);
    }
    for a in &args.archive {
        let Some((name, file)) = a.split_once('=') else {
            anyhow::bail!("--archive {a}: give NAME=FILE");
        };
        archive::check_name(name).map_err(anyhow::Error::msg)?;
        archives.push(Archive::open(name, Path::new(file)).await?);
    }
    let store = Store::open(db)
        .await
        .with_context(|| format!("opening database {db}"))?;
    // A port of 0 is a new port each run: no name to keep.
    let store = match (&args.instance, args.bind.port()) {
        (Some(name), _) => store.named(name),
        (None, 0) => store,
        (None, port) => {
            let name = format!("{}:{port}", heritage_atlas::store::host_name());
            store.named(&name)
        }
    };
    let index_snapshot = match (&args.index_snapshot, args.no_index_snapshot) {
        (_, true) => None,
        (Some(p), false) => Some(p.clone()),
        (None, false) => store.file().map(|f| f.with_extension("index")),
    };
    let atlas = Atlas::open(
        store,
        &AtlasOptions {
            load_bundled: !args.no_bundled_data,
            tile_cache_bytes: args.tile_cache_mb << 20,
            tile_sendfile_min: args.tile_sendfile_kb << 10,
            photos_dir: args
                .photos_dir
                .clone()
                .unwrap_or_else(|| default_photos_dir(db)),
            service_area: args.service_area.as_deref().map(service_area).transpose()?,
            moderate_photos: args.moderate_photos,
            channels: notifiers.channels(),
            index_snapshot,
        },
    )
    .await?;
    let requeued = atlas
        .store()
        .requeue_text_jobs(&heritage_atlas::model::now_rfc3339(), true)
        .await?;
    if requeued > 0 {
        tracing::info!(
            requeued,
            "document text jobs cut short by the last stop queued again"
        );
    }
    for _ in 0..args.text_workers {
        let reader = heritage_atlas::documents::extract::Reader::new(None);
        tokio::spawn(atlas.text_worker(reader).run());
    }
    let (again, uncertain) = atlas
        .store()
        .requeue_notifications(&heritage_atlas::model::now_rfc3339(), true)
        .await?;
    if again + uncertain > 0 {
        tracing::warn!(
            again,
            uncertain,
            "messages to reporters cut short by the last stop: those not yet handed over are due again; \
             those handed over but not recorded wait for staff (GET /notifications?state=uncertain)"
        );
    }
    tokio::spawn(take_back_stale_claims(atlas.store().clone()));
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    let bound = listener.local_addr()?;
    let public_url = match &args.public_url {
        Some(u) => {
            anyhow::ensure!(
                u.starts_with("http://") || u.starts_with("https://"),
                "--public-url must start with http:// or https://, not {u:?}"
            );
            u.clone()
        }
        None => {
            if !bound.ip().is_loopback() {
                tracing::warn!(
                    "links are written for {}; give --public-url with the address people use",
                    heritage_atlas::http::serve::origin_of(bound)
                );
            }
            heritage_atlas::http::serve::origin_of(bound)
        }
    };
    atlas.set_senders(heritage_atlas::atlas::applications::Senders {
        notifiers: notifiers.clone(),
        codes_to_log: args.codes_to_log,
    });
    if args.codes_to_log {
        tracing::warn!(
            "--codes-to-log: applicants' sign-in codes go to this log (development only)"
        );
    }
    let atlas = Arc::new(atlas);
    if atlas.started().is_some_and(|s| s.rewrite()) {
        let atlas = atlas.clone();
        tokio::spawn(async move {
            if let Err(e) = atlas.save_snapshot_if_behind().await {
                tracing::warn!(error = %e, "index snapshot not written");
            }
        });
    }
    if args.follow_ms > 0 {
        tokio::spawn(
            atlas
                .clone()
                .follow_register_every(std::time::Duration::from_millis(args.follow_ms)),
        );
    }
    if notifiers.email.is_some() || notifiers.webhook.is_some() {
        for _ in 0..args.notify_workers.max(1) {
            let w = atlas.notify_worker(
                notifiers.clone(),
                &public_url,
                std::time::Duration::from_secs(args.notify_retry_s),
            );
            tokio::spawn(w.run());
        }
    }
    let kept = atlas.clone();
    let mut state = AppState::from_args(atlas, &args, &public_url)?;
    for a in archives {
        state = state.with_archive(a);
    }
    // The proxies `--trusted-proxies` names, parsed once: believed for client addresses,
    // and exempt from the per-address connection cap.
    let opts = ServeOptions::from_args(&args, state.proxies.clone());
    let app = heritage_atlas::http::front(state);
    tracing::info!(
        "serving {db} on http://{bound} as {public_url} (ready in {} ms)",
        started.elapsed().as_millis()
    );
    heritage_atlas::http::warm_static_files();
    heritage_atlas::http::serve::serve(listener, app, opts, shutdown_signal()).await?;
    // Work this server claimed and is stopping in the middle of goes back to the queue, for
    // whichever server (or `documents extract`) comes next, whatever its name.
    let now = heritage_atlas::model::now_rfc3339();
    let store = kept.store();
    match (
        store.release_text_jobs(&now).await,
        store.release_notifications(&now).await,
    ) {
        (Ok(jobs), Ok(messages)) if jobs + messages > 0 => {
            tracing::info!(jobs, messages, "work cut short by the stop queued again");
        }
        (Err(e), _) | (_, Err(e)) => tracing::warn!("queueing work cut short by the stop: {e}"),
        _ => {}
    }
    // The next start reads the register back from here rather than decoding every row.
    if let Err(e) = kept.save_snapshot_if_behind().await {
        tracing::warn!(error = %e, "index snapshot not written");
    }
    tracing::info!("stopped");
    Ok(())
}

/// The notifiers `serve`'s arguments configure; a bad one stops the start.
fn notifiers(args: &ServeArgs) -> anyhow::Result<heritage_atlas::atlas::notify::Notifiers> {
    use heritage_atlas::notify::{smtp, webhook};
    let timeout = std::time::Duration::from_secs(30);
    let email = match &args.smtp_url {
        Some(url) => {
            let from = args
                .smtp_from
                .clone()
                .context("--smtp-url needs --smtp-from (the sender's address)")?;
            Some(Arc::new(
                smtp::Smtp::new(smtp::SmtpConfig {
                    url: url.clone(),
                    from,
                    ca_file: args.smtp_ca.clone(),
                    timeout,
                })
                .context("--smtp-url")?,
            ))
        }
        None => None,
    };
    let webhook = match &args.notify_webhook {
        Some(url) => {
            let secret = args.notify_webhook_secret.as_deref().context(
                "--notify-webhook needs --notify-webhook-secret (its receiver checks the signature with it)",
            )?;
            Some(Arc::new(
                webhook::Webhook::new(url, secret, timeout).context("--notify-webhook")?,
            ))
        }
        None => None,
    };
    Ok(heritage_atlas::atlas::notify::Notifiers { email, webhook })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

async fn import_cmd(db: &str, args: ImportArgs) -> anyhow::Result<()> {
    let store = Store::open(db)
        .await
        .with_context(|| format!("opening database {db}"))?;
    let opts = ImportOptions {
        layer: args.layer,
        crs: args.crs,
        format: args.format,
        max_vertices: args.max_vertices,
        progress: true,
    };
    let t = Instant::now();
    let report = import::import_file(&store, &args.file, &opts)
        .await
        .with_context(|| format!("importing {} (nothing was written)", args.file.display()))?;
    store.close().await;
    eprintln!(
        "imported {} features into {} ({} new, {} updated, {} unchanged) in {:.1} s",
        report.total(),
        args.layer,
        report.inserted,
        report.updated,
        report.unchanged,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn export_cmd(db: &str, args: ExportArgs) -> anyhow::Result<()> {
    let store = Store::open(db)
        .await
        .with_context(|| format!("opening database {db}"))?;
    let req = export::Request {
        layer: args.layer,
        format: args.format,
        filter: args.filter.as_deref(),
        crs: args.crs.as_deref(),
    };
    let path = args.output.as_deref().filter(|p| p.as_os_str() != "-");
    // Blocking throughout (files, and SQLite stepped on the exporting threads).
    let n = tokio::task::block_in_place(|| export::export(&store, &req, path));
    store.close().await;
    eprintln!("exported {} features of {}", n?, args.layer);
    Ok(())
}

fn generate(args: GenerateArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("creating {}", args.output.display()))?;
    let write = |name: &str,
                 features: Box<dyn Iterator<Item = synth::SynthFeature>>|
     -> anyhow::Result<()> {
        let path = args.output.join(name);
        let file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        let n = synth::write_seq(BufWriter::with_capacity(1 << 20, file), features)?;
        eprintln!("wrote {n} features to {}", path.display());
        Ok(())
    };
    match args.scale {
        Scale::City => {
            let layer_of = |l: heritage_atlas::model::Layer| {
                Box::new(synth::city(args.seed).filter(move |f| f.layer == l))
                    as Box<dyn Iterator<Item = _>>
            };
            write(
                "heritage.geojsonl",
                layer_of(heritage_atlas::model::Layer::Heritage),
            )?;
            write(
                "water_bodies.geojsonl",
                layer_of(heritage_atlas::model::Layer::WaterBodies),
            )?;
            write(
                "parks.geojsonl",
                layer_of(heritage_atlas::model::Layer::Parks),
            )?;
        }
        Scale::India => write(
            "water_bodies_india.geojsonl",
            Box::new(synth::india(args.seed)),
        )?,
        Scale::Wards => {
            let features: Vec<_> = synth::ward_grid().iter().map(|f| f.to_geojson()).collect();
            let fc = serde_json::json!({
                "type": "FeatureCollection",
                "name": "wards",
                "features": features,
            });
            let path = args.output.join("wards.geojson");
            let mut text =
                String::from("{\"type\":\"FeatureCollection\",\"name\":\"wards\",\"features\":[\n");
            let lines: Vec<String> = fc["features"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| f.to_string())
                .collect();
            text.push_str(&lines.join(",\n"));
            text.push_str("\n]}\n");
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote 144 wards to {}", path.display());
        }
    }
    Ok(())
}
