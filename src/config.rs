//! Command line and environment: `heritage-atlas [--db PATH] <serve|import|export|generate>`.
//! With no subcommand it serves, so `cargo run --release` is all a newcomer types.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::export::ExportFormat;

/// Every default of `serve`, in one place: the command line, [`ServeArgs::default`] (what
/// tests and `cargo run` get), the app state and the accept loop all read these.
pub mod defaults {
    /// Background text workers.
    pub const TEXT_WORKERS: usize = 1;
    /// How often `serve` reads the register's change feed, in milliseconds.
    pub const FOLLOW_MS: u64 = 200;
    /// Messages to reporters sent at once (each mostly waits on the network).
    pub const NOTIFY_WORKERS: usize = 16;
    /// Seconds before a failed message is tried again (each next wait is four times longer).
    pub const NOTIFY_RETRY_S: u64 = 30;
    pub const BIND: &str = "127.0.0.1:8080";
    pub const TILE_CACHE_MB: u64 = 256;
    pub const TILE_SENDFILE_KB: usize = 32;
    pub const TILE_MAX_AGE_S: u32 = 300;
    pub const COMPLAINTS_MAX_AGE_S: u32 = 10;
    pub const COMPLAINTS_PER_MINUTE: u32 = 10;
    pub const TRUSTED_PROXIES: &str = "127.0.0.0/8,::1/128";
    pub const MAX_CONNECTIONS: usize = 1024;
    pub const MAX_CONNECTIONS_PER_CLIENT: usize = 128;
    pub const HEADER_TIMEOUT_S: u64 = 10;
    pub const REQUEST_TIMEOUT_S: u64 = 60;
    pub const UPLOAD_TIMEOUT_S: u64 = 600;
    /// Four complaints with five full-size phone photos each, with room to spare.
    pub const UPLOAD_MB_PER_HOUR: u64 = 200;
    /// The water-body watch flags a loss of more than this share of the first recorded
    /// area (percent).
    pub const WATCH_AREA_LOSS_PERCENT: f64 = 2.0;
}
use crate::import::{Format, DEFAULT_MAX_VERTICES};
use crate::model::{Layer, Role};

#[derive(Debug, Parser)]
#[command(
    name = "heritage-atlas",
    version,
    about = "Heritage and water-body register, map and tile server"
)]
pub struct Cli {
    /// SQLite database file (or a `sqlite:` URL). Created if missing.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "heritage-atlas.db",
        global = true
    )]
    pub db: String,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default). Loads the bundled Kolkata data on first start.
    Serve(Box<ServeArgs>),
    /// Import a GeoJSON, GeoJSONSeq, FlatGeobuf or CSV file into a layer, in one transaction.
    Import(ImportArgs),
    /// Export a layer.
    Export(ExportArgs),
    /// Write deterministic synthetic layers for load tests.
    Generate(GenerateArgs),
    /// Write synthetic complaints with their courses (acknowledged, resolved, some left
    /// overdue) into the database, for trying the dashboard and measuring the figures at
    /// scale. Never for a real database: refused where real complaints are held.
    GenerateComplaints(GenerateComplaintsArgs),
    /// Write a small synthetic street basemap of central Kolkata (a street grid with
    /// English and Bengali names, a river, a park, buildings, places) as a PMTiles archive
    /// in the Protomaps basemap schema: for tests, and to try `serve --basemap` without an
    /// OpenStreetMap extract.
    GenerateBasemap(GenerateBasemapArgs),
    /// Vector tiles of the register, built ahead of time.
    #[command(subcommand)]
    Tiles(TilesCommand),
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage Open311 API keys (needed to POST service requests).
    #[command(subcommand)]
    Apikey(ApikeyCommand),
    /// The audit log of staff changes.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Copy the register (database, photos, documents) into DIR while it is in use; the
    /// copy serves as it is (`--db DIR/heritage-atlas.db serve`).
    Backup(BackupArgs),
    /// The department's documents: bulk ingest of scans, and reading their text.
    #[command(subcommand)]
    Documents(DocumentsCommand),
    /// Move a SQLite register (its history, complaints, documents, photos, users and
    /// audit chain) into an empty PostgreSQL database, then compare the two row by row;
    /// exits non-zero on any difference. Stop the servers on the source first.
    Migrate(MigrateArgs),
}

#[derive(Debug, Subcommand)]
pub enum DocumentsCommand {
    /// Put a folder of documents on record from a manifest (CSV with a header: file, type,
    /// reference, date, assets, public; optionally title, issuer, valid_until, language,
    /// ward). The same bytes twice are one document: run it again to finish a cut-short
    /// ingest. Exits non-zero if any line failed (each is reported with why).
    Ingest {
        /// The folder the manifest's `file` paths are in.
        dir: PathBuf,
        #[arg(long)]
        manifest: PathBuf,
        /// Also write the failed lines (line, file, reason) to this CSV file.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Who is putting them on record (for the audit log).
        #[arg(long, default_value = "ingest")]
        actor: String,
        /// Where the documents are kept (default: beside the database, as `serve`).
        #[arg(long, env = "HERITAGE_ATLAS_PHOTOS")]
        photos_dir: Option<PathBuf>,
    },
    /// Read the text of every document still waiting (PDF text layers, OCR of scans) and
    /// exit when none is left; `serve` does the same in the background.
    Extract {
        /// Documents read at once (each OCR job takes one core).
        #[arg(long, default_value_t = 2)]
        workers: usize,
        #[arg(long, env = "HERITAGE_ATLAS_PHOTOS")]
        photos_dir: Option<PathBuf>,
    },
    /// (Internal) print a PDF's text layer as JSON: run by the text workers as a child
    /// process, so a broken PDF cannot take the server down.
    #[command(hide = true)]
    ReadPdf { file: PathBuf },
}

#[derive(Debug, Parser)]
pub struct BackupArgs {
    /// A new or empty directory.
    pub dir: PathBuf,
    /// Where the photos and documents are (default: beside the database, as `serve`).
    #[arg(long, env = "HERITAGE_ATLAS_PHOTOS")]
    pub photos_dir: Option<PathBuf>,
}

#[derive(Debug, Parser)]
pub struct MigrateArgs {
    /// The SQLite database to copy (pending migrations are applied to it first).
    #[arg(long)]
    pub from: PathBuf,
    /// The PostgreSQL database to copy into (`postgres://user:password@host/db`, PostGIS
    /// installed); it must hold no register yet.
    #[arg(long)]
    pub to: String,
    /// Where the source's photos are, its documents in `documents/` inside (default:
    /// beside the source database, as `serve` keeps them).
    #[arg(long)]
    pub photos_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Re-compute the hash chain; exits non-zero if any entry was altered or removed.
    /// Prints the entry count and the head hash (publish it: a later rewrite then shows).
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a staff member, or reset an existing one's role, ward and password. The
    /// password is read from standard input (one line).
    Add {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The ward a field staff member works in.
        #[arg(long)]
        ward: Option<i64>,
        /// What they act on in applications, one per flag (a stage's duty, e.g.
        /// eh_scrutiny, building_scrutiny, hcc_secretary, mic_clerk, eh_decision); the
        /// list replaces any they had.
        #[arg(long = "duty")]
        duties: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    /// Issue a key; it is printed once and stored only as a hash.
    Add {
        /// Who the key is for (an app, a partner).
        label: String,
    },
}

/// clap takes any error type for a value parser and shows its message.
fn parse_role(s: &str) -> Result<Role, crate::model::UnknownValue> {
    s.parse()
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "HERITAGE_ATLAS_BIND", default_value = defaults::BIND)]
    pub bind: SocketAddr,
    /// This server's name among the servers on one database, the same from one run to
    /// the next: the messages and text jobs it was at when it stopped are taken back at
    /// its next start under the same name, and another replica's never are. Default:
    /// HOST:PORT (the port of --bind).
    #[arg(long, env = "HERITAGE_ATLAS_INSTANCE")]
    pub instance: Option<String>,
    /// Do not load the bundled Kolkata data into a new database.
    #[arg(long)]
    pub no_bundled_data: bool,
    /// Memory for cached tiles, in MiB; 0 turns the tile cache off.
    #[arg(long, env = "HERITAGE_ATLAS_TILE_CACHE_MB", default_value_t = defaults::TILE_CACHE_MB)]
    pub tile_cache_mb: u64,
    /// Cached tiles of at least this many KiB are sent with `sendfile` from a memory file
    /// (one copy fewer; up to a quarter of the tile cache's memory more); 0 turns it off.
    #[arg(long, default_value_t = defaults::TILE_SENDFILE_KB)]
    pub tile_sendfile_kb: usize,
    /// `Cache-Control: max-age` for tiles, in seconds.
    #[arg(long, default_value_t = defaults::TILE_MAX_AGE_S)]
    pub tile_max_age: u32,
    /// `Cache-Control: max-age` for tiles that include the complaints layer, in seconds.
    #[arg(long, default_value_t = defaults::COMPLAINTS_MAX_AGE_S)]
    pub complaints_max_age: u32,
    /// Complaints (and supports) one client may send per minute; 0 for no limit.
    #[arg(
        long,
        env = "HERITAGE_ATLAS_COMPLAINTS_PER_MINUTE",
        default_value_t = defaults::COMPLAINTS_PER_MINUTE
    )]
    pub complaints_per_minute: u32,
    /// Directory for complaint photos. Default: beside the database (`NAME.photos`).
    #[arg(long, env = "HERITAGE_ATLAS_PHOTOS")]
    pub photos_dir: Option<PathBuf>,
    /// GeoJSON (Polygon/MultiPolygon, Feature or FeatureCollection of them) of the area
    /// complaints are accepted in. Default: the wards of the register.
    #[arg(long)]
    pub service_area: Option<PathBuf>,
    /// The address people reach this server at (e.g. `https://heritage.example.org`):
    /// written into TileJSON, the style, OGC and Open311 links. Default: the bind
    /// address. A request's `Host` header is never used for links unless it comes
    /// through a trusted proxy.
    #[arg(long, env = "HERITAGE_ATLAS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Behind a reverse proxy: believe `X-Forwarded-For` (the right-most address that is
    /// not a trusted proxy), `X-Forwarded-Proto` and `X-Forwarded-Host` from the proxies
    /// in `--trusted-proxies`.
    #[arg(long)]
    pub trust_proxy: bool,
    /// The reverse proxies' addresses or CIDR blocks, comma-separated.
    #[arg(
        long,
        env = "HERITAGE_ATLAS_TRUSTED_PROXIES",
        default_value = defaults::TRUSTED_PROXIES
    )]
    pub trusted_proxies: String,
    /// Connections open at once; more wait to be accepted.
    #[arg(long, default_value_t = defaults::MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Connections open at once from one client address (0: no cap; trusted proxies
    /// are not capped).
    #[arg(long, default_value_t = defaults::MAX_CONNECTIONS_PER_CLIENT)]
    pub max_connections_per_client: usize,
    /// Seconds to send a request's headers (and to keep an idle connection open).
    #[arg(long, default_value_t = defaults::HEADER_TIMEOUT_S)]
    pub header_timeout: u64,
    /// Seconds a request may take, body and answer; past it, 503.
    #[arg(long, default_value_t = defaults::REQUEST_TIMEOUT_S)]
    pub request_timeout: u64,
    /// Seconds an upload (complaint photos, documents) may take to arrive.
    #[arg(long, default_value_t = defaults::UPLOAD_TIMEOUT_S)]
    pub upload_timeout: u64,
    /// MB of photos and documents one anonymous client may upload an hour (0: no limit);
    /// past it, 429 with `Retry-After`.
    #[arg(long, env = "HERITAGE_ATLAS_UPLOAD_MB_PER_HOUR", default_value_t = defaults::UPLOAD_MB_PER_HOUR)]
    pub upload_mb_per_hour: u64,
    /// The water-body watch (`/watch`) flags a water body whose recorded area has fallen
    /// by more than this percentage of its first recorded area.
    #[arg(long, default_value_t = defaults::WATCH_AREA_LOSS_PERCENT, value_parser = parse_percent)]
    pub watch_area_loss: f64,
    /// Months between inspections of graded heritage buildings, per grade (the
    /// monitoring figures' "inspections due"); any grade left out keeps its default.
    #[arg(long, default_value = "I=12,IIA=18,IIB=24,III=36", value_parser = crate::stats::Intervals::parse)]
    pub inspection_months: crate::stats::Intervals,
    /// How often to apply writes other processes made to the register (another `serve`
    /// on the same database, an `import`), in milliseconds; 0 never. See docs/deploy.md.
    #[arg(long, default_value_t = defaults::FOLLOW_MS)]
    pub follow_ms: u64,
    /// The index snapshot: the register as held in memory, kept in a file so that a start
    /// reads it back instead of decoding every row (then applies the changes made since).
    /// Default: beside the database (`NAME.index`). See docs/deploy.md.
    #[arg(long, env = "HERITAGE_ATLAS_INDEX_SNAPSHOT")]
    pub index_snapshot: Option<PathBuf>,
    /// Keep no index snapshot (every start reads the register from the database).
    #[arg(long, conflicts_with = "index_snapshot")]
    pub no_index_snapshot: bool,
    /// A street basemap: a PMTiles archive of vector tiles in the Protomaps basemap schema
    /// (an OpenStreetMap extract; README, "Street basemap"), served at
    /// `/tiles/basemap/{z}/{x}/{y}.mvt` and drawn under the register's layers
    #[arg(long, env = "HERITAGE_ATLAS_BASEMAP")]
    pub basemap: Option<PathBuf>,
    /// Also serve the PMTiles archive FILE (e.g. one `tiles build` made) as NAME: its tiles
    /// at `/tiles/NAME/{z}/{x}/{y}.mvt` with TileJSON at `/tiles/NAME.json`, and the file
    /// itself, by range, at `/archives/NAME.pmtiles` (what MapLibre's `pmtiles://` protocol
    /// or a CDN reads). Repeatable
    #[arg(long, value_name = "NAME=FILE")]
    pub archive: Vec<String>,
    /// Background workers reading documents' text (PDF text layers; OCR of scans, one
    /// core each while they work); 0 leaves it to `documents extract`.
    #[arg(long, default_value_t = defaults::TEXT_WORKERS)]
    pub text_workers: usize,
    /// Hold citizens' photos for an officer's review before they are public (the
    /// complaint itself is public at once).
    #[arg(long, env = "HERITAGE_ATLAS_MODERATE_PHOTOS")]
    pub moderate_photos: bool,
    /// Tell reporters of progress by email through this SMTP server:
    /// `smtp://user:pass@host:587` (STARTTLS, required), `smtps://host:465` (TLS), or
    /// `smtp://host:25?tls=none` (a relay on this machine only).
    #[arg(long, env = "HERITAGE_ATLAS_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The sender of those emails, e.g. `KMC Environment & Heritage <noreply@kmc.example>`.
    #[arg(long, env = "HERITAGE_ATLAS_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// A PEM file of certificates to trust for the SMTP server besides the public roots.
    #[arg(long, env = "HERITAGE_ATLAS_SMTP_CA")]
    pub smtp_ca: Option<PathBuf>,
    /// Tell reporters of progress through this webhook too (an SMS gateway, the e-KMC
    /// messaging service): a JSON POST signed per Standard Webhooks (HMAC-SHA256).
    #[arg(long, env = "HERITAGE_ATLAS_NOTIFY_WEBHOOK")]
    pub notify_webhook: Option<String>,
    /// The webhook's signing secret (`whsec_…` base64, or at least 16 characters).
    #[arg(
        long,
        env = "HERITAGE_ATLAS_NOTIFY_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub notify_webhook_secret: Option<String>,
    /// Messages to reporters sent at once.
    #[arg(long, default_value_t = defaults::NOTIFY_WORKERS)]
    pub notify_workers: usize,
    /// Seconds before a message that could not be sent is tried again; each next wait
    /// is four times longer, and after 6 attempts it is given up (`failed`).
    #[arg(long, default_value_t = defaults::NOTIFY_RETRY_S)]
    pub notify_retry_s: u64,
    /// Development only: applicants' one-time sign-in codes are written to the log when
    /// no notifier reaches their contact (SMTP for email, the webhook for phones).
    #[arg(long)]
    pub codes_to_log: bool,
}

fn parse_percent(s: &str) -> Result<f64, String> {
    match s.trim().trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..100.0).contains(&p) => Ok(p),
        _ => Err(format!("{s:?} is not a percentage from 0 to 100")),
    }
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs {
            bind: defaults::BIND.parse().expect("valid default address"),
            instance: None,
            no_bundled_data: false,
            tile_cache_mb: defaults::TILE_CACHE_MB,
            tile_sendfile_kb: defaults::TILE_SENDFILE_KB,
            tile_max_age: defaults::TILE_MAX_AGE_S,
            complaints_max_age: defaults::COMPLAINTS_MAX_AGE_S,
            complaints_per_minute: defaults::COMPLAINTS_PER_MINUTE,
            photos_dir: None,
            service_area: None,
            public_url: None,
            trust_proxy: false,
            trusted_proxies: defaults::TRUSTED_PROXIES.into(),
            max_connections: defaults::MAX_CONNECTIONS,
            max_connections_per_client: defaults::MAX_CONNECTIONS_PER_CLIENT,
            header_timeout: defaults::HEADER_TIMEOUT_S,
            request_timeout: defaults::REQUEST_TIMEOUT_S,
            upload_timeout: defaults::UPLOAD_TIMEOUT_S,
            upload_mb_per_hour: defaults::UPLOAD_MB_PER_HOUR,
            watch_area_loss: defaults::WATCH_AREA_LOSS_PERCENT,
            inspection_months: crate::stats::Intervals::default(),
            text_workers: defaults::TEXT_WORKERS,
            follow_ms: defaults::FOLLOW_MS,
            index_snapshot: None,
            no_index_snapshot: false,
            basemap: None,
            archive: Vec::new(),
            moderate_photos: false,
            smtp_url: None,
            smtp_from: None,
            smtp_ca: None,
            notify_webhook: None,
            notify_webhook_secret: None,
            notify_workers: defaults::NOTIFY_WORKERS,
            notify_retry_s: defaults::NOTIFY_RETRY_S,
            codes_to_log: false,
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// File to import.
    pub file: PathBuf,
    /// Layer the features belong to.
    #[arg(long, value_parser = parse_layer)]
    pub layer: Layer,
    /// Source CRS (e.g. EPSG:32645). Default: the file's own declaration, else EPSG:4326.
    #[arg(long)]
    pub crs: Option<String>,
    /// Input format. Default: from the file extension (.fgb, .csv, else GeoJSON).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Refuse any geometry with more vertices than this.
    #[arg(long, default_value_t = DEFAULT_MAX_VERTICES)]
    pub max_vertices: usize,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    #[arg(long, value_parser = parse_layer)]
    pub layer: Layer,
    #[arg(long, value_enum, default_value = "geojson")]
    pub format: ExportFormat,
    /// CQL2 text filter, as `/collections/{id}/items?filter=` takes it (e.g.
    /// `grade = 'I' AND S_DWITHIN(geometry, POINT(88.35 22.55), 500, meters)`).
    #[arg(long)]
    pub filter: Option<String>,
    /// Output CRS (CRS84 by default; EPSG:4326, 3857, 32645, 7755).
    #[arg(long)]
    pub crs: Option<String>,
    /// Output file; standard output when absent or `-`.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scale {
    /// ~1,400 heritage footprints, ~8,000 ponds, ~750 parks over Kolkata.
    City,
    /// 2,424,540 water bodies across India.
    India,
    /// The 144-cell synthetic ward grid bundled in data/wards.geojson.
    Wards,
}

#[derive(Debug, Clone, clap::Args)]
pub struct GenerateArgs {
    #[arg(long, value_enum)]
    pub scale: Scale,
    /// Directory to write into (created if missing).
    #[arg(short, long, default_value = "synthetic")]
    pub output: PathBuf,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Clone, clap::Args)]
pub struct GenerateBasemapArgs {
    /// The archive to write.
    #[arg(short, long, default_value = "streets.pmtiles")]
    pub output: PathBuf,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum TilesCommand {
    /// Draw every non-empty tile of the register (over a box and a zoom range) into one
    /// PMTiles v3 archive, the same bytes the server sends, to serve from any static host
    /// or CDN (MapLibre reads it through the `pmtiles://` protocol), or with
    /// `serve --archive NAME=FILE`.
    Build(TilesBuildArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct TilesBuildArgs {
    /// The archive to write.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The layers, comma-separated (heritage, water_bodies, parks, wards, complaints).
    #[arg(long, default_value = "heritage,water_bodies,parks,wards")]
    pub layers: String,
    #[arg(long, default_value_t = 0)]
    pub minzoom: u8,
    #[arg(long, default_value_t = 16)]
    pub maxzoom: u8,
    /// West,south,east,north in degrees. Default: the extent of the layers.
    #[arg(long, value_parser = parse_bbox)]
    pub bbox: Option<[f64; 4]>,
    /// The register as it stood at this instant (RFC 3339, or a date), from its history.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Threads drawing tiles. Default: one per core.
    #[arg(long)]
    pub threads: Option<usize>,
}

fn parse_bbox(s: &str) -> Result<[f64; 4], String> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>().map_err(|e| format!("{p:?}: {e}")))
        .collect::<Result<_, _>>()?;
    match v[..] {
        [w, so, e, n]
            if w < e
                && so < n
                && (-180.0..=180.0).contains(&w)
                && (-180.0..=180.0).contains(&e)
                && (-85.06..=85.06).contains(&so)
                && (-85.06..=85.06).contains(&n) =>
        {
            Ok([w, so, e, n])
        }
        _ => Err("give west,south,east,north with west < east and south < north".into()),
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct GenerateComplaintsArgs {
    #[arg(long)]
    pub count: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Filed over this many months before now.
    #[arg(long, default_value_t = 24)]
    pub months: u32,
    /// Write them even though the database holds real complaints.
    #[arg(long)]
    pub force: bool,
}

fn parse_layer(s: &str) -> Result<Layer, crate::model::UnknownValue> {
    s.parse()
}

/// Where photos go by default: beside the database file (`heritage-atlas.db` →
/// `heritage-atlas.photos`).
pub fn default_photos_dir(db: &str) -> PathBuf {
    if crate::store::Backend::of(db) == crate::store::Backend::Postgres {
        // Photos and documents are in the database then (src/blobs.rs).
        return PathBuf::from("heritage-atlas.photos");
    }
    let path = db
        .strip_prefix("sqlite://")
        .or_else(|| db.strip_prefix("sqlite:"))
        .unwrap_or(db);
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path == ":memory:" {
        return PathBuf::from("heritage-atlas.photos");
    }
    PathBuf::from(path).with_extension("photos")
}
