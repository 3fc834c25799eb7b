//! heritage-atlas: parse the command line, open the store, and serve or run a command.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use heritage_atlas::atlas::{Atlas, AtlasOptions};
use heritage_atlas::config::{
    Cli, Command, ExportArgs, GenerateArgs, ImportArgs, Scale, ServeArgs,
};
use heritage_atlas::import::{self, ImportOptions};
use heritage_atlas::store::Store;
use heritage_atlas::{export, synth, AppState};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
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

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => serve(&cli.db, args).await,
        Command::Import(args) => import_cmd(&cli.db, args).await,
        Command::Export(args) => export_cmd(&cli.db, args).await,
        Command::Generate(args) => generate(args),
    }
}

async fn serve(db: &str, args: ServeArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = Store::open(db)
        .await
        .with_context(|| format!("opening database {db}"))?;
    let atlas = Atlas::open(
        store,
        &AtlasOptions {
            load_bundled: !args.no_bundled_data,
            tile_cache_bytes: args.tile_cache_mb << 20,
        },
    )
    .await?;
    let app = heritage_atlas::app(AppState {
        atlas: Arc::new(atlas),
        tile_max_age: args.tile_max_age,
    });
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    tracing::info!(
        "serving {db} on http://{} (ready in {} ms)",
        listener.local_addr()?,
        started.elapsed().as_millis()
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("stopped");
    Ok(())
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
        "imported {} features into {} ({} new, {} updated) in {:.1} s",
        report.total(),
        args.layer,
        report.inserted,
        report.updated,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn export_cmd(db: &str, args: ExportArgs) -> anyhow::Result<()> {
    let store = Store::open(db)
        .await
        .with_context(|| format!("opening database {db}"))?;
    let out: Box<dyn Write> = match &args.output {
        Some(p) if p.as_os_str() != "-" => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        _ => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let n = export::write_layer(&store, args.layer, args.format, out).await?;
    eprintln!("exported {n} features of {}", args.layer);
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
