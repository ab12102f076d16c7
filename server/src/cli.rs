//! The command line: `serve` and the mission admin's commands.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use fieldconsult_model::report::{Month, ReportOptions, ReportScope};
use fieldconsult_model::{
    ChecklistTemplate, Language, Location, RecipientKey, ReferralServiceKind, Role, TeamId,
};

use crate::admin::{self, AdminError, CommunityInput};
use crate::app::HttpConfig;
use crate::audit::{self, AuditAction, AuditEntry, AuditError, Break, Who};
use crate::export::{self, ExportError, Format};
use crate::rate_limit::Limit;
use crate::storage::{SqliteStorage, Storage, StorageError};

/// FieldConsult mission server: receives what engagement teams record on patrol, sends back
/// reviews and reference data, and holds the mission's admin commands.
///
/// To see the whole path on this machine first: fieldconsult-server demo
///
/// Typical first setup:
///   fieldconsult-server team add --name "Engagement Team 3" --sector West
///   fieldconsult-server checklist publish
///   fieldconsult-server community import communities.csv
///   fieldconsult-server escrow-key generate --out escrow.key   (optional; prints <ESCROW_HEX>)
///   fieldconsult-server keys set --sector West --focal-point-key <HEX> [--escrow-key <ESCROW_HEX>]
///   fieldconsult-server enrol --team <TEAM_ID>        (hand the printed code to the device)
///   fieldconsult-server enrol --admin                 (the mission admin's own device)
///   fieldconsult-server serve --listen 127.0.0.1:8443
///
/// Monthly gender report of a sector, every format, into a folder:
///   fieldconsult-server report --month 2026-10 --sector West --out reports/
///
/// Read one sealed note (or, with --field referral-service, the service a referral went to)
/// with the mission escrow key (audited first, printed to stdout only):
///   fieldconsult-server unseal --session <SESSION_ID> --escrow-key escrow.key --why "<REASON>"
#[derive(Debug, Parser)]
#[command(name = "fieldconsult-server", version, verbatim_doc_comment)]
pub struct Cli {
    /// The database file; created on first use.
    #[arg(long, global = true, default_value = "fieldconsult-server.db")]
    pub db: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Try it out: start a server with a throwaway database in a temporary folder, enrol two
    /// team devices and a gender focal point's device, record women's, men's and mixed
    /// sessions offline, sync, review, and print the reports the server computes. Touches
    /// nothing outside the temporary folder (ignores --db).
    Demo,
    /// Run the sync server (plain HTTP). Put a TLS-terminating reverse proxy in front of it:
    /// devices only talk HTTPS. Stops cleanly on Ctrl-C or SIGTERM, finishing syncs in flight.
    Serve {
        /// Address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// Enrolment attempts allowed per client address and minute; more are answered 429.
        #[arg(long, default_value_t = crate::app::DEFAULT_ENROLMENT_LIMIT.events)]
        enrolment_limit: u32,
        /// Failed authentications allowed per client address and minute; more are answered
        /// 429. Requests with a valid token are never throttled.
        #[arg(long, default_value_t = crate::app::DEFAULT_FAILED_AUTH_LIMIT.events)]
        failed_auth_limit: u32,
    },
    /// Manage engagement teams.
    #[command(subcommand)]
    Team(TeamCommand),
    /// Manage the communities teams visit.
    #[command(subcommand)]
    Community(CommunityCommand),
    /// Manage the checklist of topics.
    #[command(subcommand)]
    Checklist(ChecklistCommand),
    /// Manage the referral directory.
    #[command(subcommand)]
    Referral(ReferralCommand),
    /// Manage the keys sensitive notes are sealed to.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Print a one-time enrolment code for a new device. Give it to the person setting up
    /// the device; it works once and expires.
    Enrol(EnrolArgs),
    /// Revoke a device (lost, stolen, handed over). Its next sync is refused and it wipes
    /// its data.
    Revoke {
        /// The device id, as `devices` lists it.
        device_id: String,
    },
    /// List enrolled devices.
    Devices,
    /// Export accepted sessions (never the sensitive notes).
    Export {
        /// csv (one row per session, for spreadsheets) or jsonl (one JSON object per line).
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// Write to this file instead of the screen.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Why the export is needed; kept in the audit log.
        #[arg(long, default_value = "")]
        why: String,
    },
    /// Write the monthly gender report of a team, a sector or the mission (accepted sessions;
    /// pending ones counted in the review state) and print the paths of the files written.
    Report(ReportArgs),
    /// Manage the mission root key that signs reference data.
    #[command(subcommand)]
    RootKey(RootKeyCommand),
    /// Sign the reference data devices pull.
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// The audit log of reads, exports and admin actions.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Manage the mission escrow key, which opens every field sealed while it was set.
    #[command(subcommand)]
    EscrowKey(EscrowKeyCommand),
    /// Open one session's sealed note (or referral service) with the mission escrow key and
    /// print it to stdout. The request (who, which session and field, which key, why) is
    /// appended to the audit log first, and stays there even if the field then does not open;
    /// if the log cannot take it, nothing is opened.
    Unseal(UnsealArgs),
}

/// `escrow-key` subcommands.
#[derive(Debug, Subcommand)]
pub enum EscrowKeyCommand {
    /// Generate the mission escrow key: writes its secret to a new file only its owner can
    /// read (keep it off the server) and prints the public key (64 hex characters) to pass
    /// to `keys set --escrow-key`.
    Generate {
        /// The file to create; never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Arguments of `unseal`.
#[derive(Debug, Args)]
pub struct UnsealArgs {
    /// The session whose sealed field to open.
    #[arg(long)]
    pub session: String,
    /// Which sealed field: its sensitive note, or the service its referral went to (printed
    /// as the service's id in the referral directory).
    #[arg(long, value_enum, default_value = "sensitive-note")]
    pub field: crate::unseal::SealedPart,
    /// The escrow key file written by `escrow-key generate`.
    #[arg(long)]
    pub escrow_key: PathBuf,
    /// Why the field must be read; required, kept in the audit log (one line, at most 1000
    /// characters; never put note content here).
    #[arg(long)]
    pub why: String,
}

/// `root-key` subcommands.
#[derive(Debug, Subcommand)]
pub enum RootKeyCommand {
    /// Generate the mission root key: writes its secret to a new file only its owner can
    /// read (keep it off the server) and prints the public key's fingerprint, to put in
    /// enrolment QR codes.
    Generate {
        /// The file to create; never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
}

/// `bundle` subcommands.
#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Sign the server's current reference data (teams, communities, checklists, referral
    /// directory) with the root key as the next bundle; devices that pinned the root key
    /// apply reference data only from such bundles. Run it after every reference change.
    Sign {
        /// The root key file written by `root-key generate`.
        #[arg(long)]
        root_key: PathBuf,
    },
}

/// `audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain of the whole audit log; name the first entry edited, deleted or
    /// moved, and fail if there is one. Prints the head hash: keep it elsewhere to detect
    /// entries removed from the end.
    Verify,
}

/// Arguments of `report`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("scope").required(true).args(["team", "sector", "mission"])))]
pub struct ReportArgs {
    /// The month, YYYY-MM (a session counts in the month of its local start date).
    #[arg(long)]
    pub month: String,
    /// The report of this team (team id from `team list`).
    #[arg(long)]
    pub team: Option<String>,
    /// The report of every team of this sector.
    #[arg(long)]
    pub sector: Option<String>,
    /// The report of the whole mission.
    #[arg(long)]
    pub mission: bool,
    /// html, csv, json, xlsx, pdf, png, or all of them.
    #[arg(long, default_value = "all")]
    pub format: String,
    /// Language of labels and headings: en or fr.
    #[arg(long, default_value = "en")]
    pub lang: String,
    /// Hide participant counts from 1 to N-1 (0 to 100). Below 5, the floor devices get
    /// over HTTP, small counts show: for internal analysis only, never for publication.
    #[arg(long, default_value_t = crate::routes::reports::MIN_CELL_FLOOR)]
    pub min_cell: u32,
    /// The folder to write into; created if needed. Existing files of the same name are
    /// replaced.
    #[arg(long)]
    pub out: PathBuf,
}

/// `team` subcommands.
#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Add a team; prints its id (needed for `enrol --team`).
    Add {
        /// Display name, e.g. "Engagement Team 3".
        #[arg(long)]
        name: String,
        /// The sector it works in; the sector's focal points review its entries.
        #[arg(long)]
        sector: String,
    },
    /// List teams with their ids.
    List,
}

/// `community` subcommands.
#[derive(Debug, Subcommand)]
pub enum CommunityCommand {
    /// Import communities from a CSV file with the columns name,admin_area[,lat,lon]
    /// (a header row is optional). Coordinates are rounded to about 1 km.
    Import {
        /// The CSV file.
        file: PathBuf,
    },
}

/// `checklist` subcommands.
#[derive(Debug, Subcommand)]
pub enum ChecklistCommand {
    /// Publish a checklist version (JSON file; without a file, the built-in version 1).
    /// A published version never changes: publish a new version number instead.
    Publish {
        /// The checklist JSON file.
        file: Option<PathBuf>,
    },
}

/// `referral` subcommands.
#[derive(Debug, Subcommand)]
pub enum ReferralCommand {
    /// Add a service to the referral directory.
    Add {
        /// Service name.
        #[arg(long)]
        name: String,
        /// health, psychosocial, legal, safety or other.
        #[arg(long)]
        kind: String,
        /// The area it serves.
        #[arg(long)]
        area: String,
    },
}

/// `keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Set the public keys a sector's sensitive notes are sealed to: its gender focal
    /// points' (64 hex characters each, as their device shows them) and, optionally, the
    /// mission's escrow key. Replaces the sector's earlier keys; notes sealed before keep
    /// theirs.
    Set {
        /// The sector, as teams name it.
        #[arg(long)]
        sector: String,
        /// A focal point's public key; repeat for each focal point.
        #[arg(long = "focal-point-key", required = true)]
        focal_point_keys: Vec<String>,
        /// The mission's escrow public key.
        #[arg(long)]
        escrow_key: Option<String>,
    },
    /// List the sealing keys of every sector (key ids and keys).
    List,
}

/// Arguments of `enrol`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("role").required(true).args(["team", "reviewer", "hq_analyst", "admin"])))]
pub struct EnrolArgs {
    /// A device of this team (team id from `team add` or `team list`).
    #[arg(long)]
    pub team: Option<String>,
    /// A gender focal point's device reviewing this sector.
    #[arg(long)]
    pub reviewer: Option<String>,
    /// A mission headquarters analyst's device: reports of any scope and exports, no records.
    #[arg(long)]
    pub hq_analyst: bool,
    /// A mission admin's device: devices, enrolment codes, revocation, the audit log.
    #[arg(long)]
    pub admin: bool,
    /// Hours until the code expires.
    #[arg(long, default_value_t = 24)]
    pub expires_hours: i64,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// An admin operation failed.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// An export failed.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// A file or socket failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// The input is not usable.
    #[error("{0}")]
    Input(String),
    /// The demo stopped.
    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),
    /// A command-line argument is not usable; `arg` names it.
    #[error("{arg}: {reason}")]
    InvalidArgument {
        /// The argument, as typed (`--month`).
        arg: &'static str,
        /// Why it is not usable; never report content.
        reason: String,
    },
    /// A report could not be rendered.
    #[error("cannot render the report: {0}")]
    Render(#[from] fieldconsult_report::RenderError),
    /// The root key or a bundle failed.
    #[error(transparent)]
    Bundle(#[from] crate::bundle::BundleError),
    /// The audit log could not be read or written.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// An escrow key operation or a decryption request failed.
    #[error(transparent)]
    Unseal(#[from] crate::unseal::UnsealError),
    /// The audit log's chain is broken at entry `seq`.
    #[error("audit log broken at entry {seq}: {problem}")]
    AuditBroken {
        /// The first entry that does not chain.
        seq: u64,
        /// How it breaks.
        problem: &'static str,
    },
}

fn bad(arg: &'static str, reason: impl Into<String>) -> CliError {
    CliError::InvalidArgument {
        arg,
        reason: reason.into(),
    }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> CliError {
    let what = what.into();
    move |source| CliError::Io { what, source }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    if let Command::Demo = cli.command {
        return Ok(crate::demo::run()?);
    }
    if let Command::RootKey(RootKeyCommand::Generate { out }) = &cli.command {
        // Needs no database: the key is made on the admin's machine.
        let public = crate::bundle::generate_root_key(out)?;
        writeln!(std::io::stdout(), "{}", public.fingerprint()).map_err(io("write to stdout"))?;
        return Ok(());
    }
    if let Command::EscrowKey(EscrowKeyCommand::Generate { out }) = &cli.command {
        // Needs no database: the key is made on the admin's machine.
        let public = crate::unseal::generate_escrow_key(out)?;
        writeln!(std::io::stdout(), "{public}").map_err(io("write to stdout"))?;
        return Ok(());
    }
    if let Command::Unseal(args) = &cli.command {
        // A request without a reason is refused before any file is read.
        crate::unseal::check_why(&args.why)?;
        let escrow = crate::unseal::read_escrow_key(&args.escrow_key)?;
        // A mistyped --db would otherwise create an empty database and audit the request
        // there, away from the mission's log.
        if !cli.db.is_file() {
            return Err(bad("--db", "no database file at this path"));
        }
        let storage = SqliteStorage::open(&cli.db)?;
        let note = crate::unseal::unseal(
            &storage,
            &args.session,
            args.field,
            &args.why,
            crate::unseal::requester(),
            &escrow,
        )?;
        let mut out = std::io::stdout().lock();
        out.write_all(note.as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush())
            .map_err(io("write to stdout"))?;
        return Ok(());
    }
    let storage = SqliteStorage::open(&cli.db)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let w = |out: &mut std::io::StdoutLock<'_>, s: String| {
        writeln!(out, "{s}").map_err(io("write to stdout"))
    };
    match cli.command {
        Command::Demo | Command::RootKey(_) | Command::EscrowKey(_) | Command::Unseal(_) => {}
        Command::Bundle(BundleCommand::Sign { root_key }) => {
            let root = crate::bundle::read_root_key(&root_key)?;
            let bundle = crate::bundle::sign_bundle(&storage, &root)?;
            w(
                &mut out,
                format!(
                    "bundle {} signed: {} reference records",
                    bundle.sequence,
                    bundle.records.len()
                ),
            )?;
        }
        Command::Serve {
            listen,
            enrolment_limit,
            failed_auth_limit,
        } => {
            let config = HttpConfig {
                enrolment_limit: Limit::per_minute(enrolment_limit),
                failed_auth_limit: Limit::per_minute(failed_auth_limit),
                ..HttpConfig::default()
            };
            serve(Arc::new(storage), config, listen)?;
        }
        Command::Team(TeamCommand::Add { name, sector }) => {
            let team = admin::add_team(&storage, &name, &sector)?;
            w(&mut out, team.id.to_string())?;
        }
        Command::Team(TeamCommand::List) => {
            for t in admin::teams(&storage)? {
                w(&mut out, format!("{}\t{}\t{}", t.id, t.sector, t.name))?;
            }
        }
        Command::Community(CommunityCommand::Import { file }) => {
            let inputs = read_communities(&file)?;
            let stored = admin::import_communities(&storage, &inputs)?;
            w(&mut out, format!("imported {} communities", stored.len()))?;
        }
        Command::Checklist(ChecklistCommand::Publish { file }) => {
            let checklist = match file {
                None => ChecklistTemplate::default_v1(),
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .map_err(io(format!("read {}", path.display())))?;
                    serde_json::from_str(&text).map_err(|e| {
                        CliError::Input(format!("{} is not a checklist: {e}", path.display()))
                    })?
                }
            };
            let version = checklist.version;
            if admin::publish_checklist(&storage, &checklist)? {
                w(&mut out, format!("published checklist version {version}"))?;
            } else {
                w(
                    &mut out,
                    format!("checklist version {version} was already published"),
                )?;
            }
        }
        Command::Referral(ReferralCommand::Add { name, kind, area }) => {
            let kind: ReferralServiceKind = serde_json::from_value(serde_json::Value::String(
                kind.to_lowercase(),
            ))
            .map_err(|_| {
                CliError::Input(
                    "kind must be health, psychosocial, legal, safety or other".to_owned(),
                )
            })?;
            let s = admin::add_referral_service(&storage, &name, kind, &area)?;
            w(&mut out, s.id.to_string())?;
        }
        Command::Keys(KeysCommand::Set {
            sector,
            focal_point_keys,
            escrow_key,
        }) => {
            let parse = |arg: &'static str, hex: &str| {
                RecipientKey::from_hex(hex)
                    .map_err(|_| bad(arg, "must be a public key of 64 hex characters"))
            };
            let focal = focal_point_keys
                .iter()
                .map(|k| parse("--focal-point-key", k))
                .collect::<Result<Vec<_>, _>>()?;
            let escrow = escrow_key
                .as_deref()
                .map(|k| parse("--escrow-key", k))
                .transpose()?;
            let keys = admin::set_sealing_keys(&storage, &sector, focal, escrow)?;
            for k in keys.recipients() {
                w(&mut out, format!("{}\t{}", keys.sector, k.key_id()))?;
            }
        }
        Command::Keys(KeysCommand::List) => {
            for keys in admin::sealing_keys(&storage)? {
                for k in &keys.focal_point_keys {
                    w(
                        &mut out,
                        format!("{}\tfocal_point\t{}\t{k}", keys.sector, k.key_id()),
                    )?;
                }
                if let Some(k) = &keys.escrow_key {
                    w(
                        &mut out,
                        format!("{}\tescrow\t{}\t{k}", keys.sector, k.key_id()),
                    )?;
                }
            }
        }
        Command::Enrol(args) => {
            let role = match (args.team, args.reviewer, args.hq_analyst, args.admin) {
                (Some(team), None, false, false) => Role::TeamMember {
                    team_id: team
                        .trim()
                        .parse::<TeamId>()
                        .map_err(|_| CliError::Input("--team needs a team id".to_owned()))?,
                },
                (None, Some(sector), false, false) => Role::Reviewer {
                    sector: sector.trim().to_owned(),
                },
                (None, None, true, false) => Role::HqAnalyst,
                (None, None, false, true) => Role::Admin,
                _ => {
                    return Err(CliError::Input(
                        "give exactly one of --team, --reviewer, --hq-analyst or --admin"
                            .to_owned(),
                    ));
                }
            };
            if !(1..=24 * 30).contains(&args.expires_hours) {
                return Err(CliError::Input(
                    "--expires-hours must be between 1 and 720".to_owned(),
                ));
            }
            let code = admin::enrolment_code(&storage, &role, args.expires_hours)?;
            audit::append(
                &storage,
                &AuditEntry {
                    who: Who::cli(),
                    action: AuditAction::EnrolmentCodeIssued,
                    target: format!(
                        "role:{} ttl_hours={}",
                        admin::role_label(&role),
                        args.expires_hours
                    ),
                    why: String::new(),
                    at: chrono::Utc::now(),
                },
            )?;
            w(&mut out, code)?;
            if let Some(root) = storage.root_key()? {
                // For the enrolment QR code: the device refuses a server with another key.
                w(
                    &mut out,
                    format!("root key fingerprint {}", root.fingerprint()),
                )?;
            }
        }
        Command::Revoke { device_id } => {
            if admin::revoke(&storage, &device_id)? {
                audit::append(
                    &storage,
                    &AuditEntry {
                        who: Who::cli(),
                        action: AuditAction::DeviceRevoked,
                        target: format!("device:{device_id}"),
                        why: String::new(),
                        at: chrono::Utc::now(),
                    },
                )?;
                w(&mut out, format!("revoked {device_id}"))?;
            } else {
                return Err(CliError::Input(format!("no device {device_id}")));
            }
        }
        Command::Devices => {
            w(&mut out, "id\tenrolled\trevoked\trole\tlabel".to_owned())?;
            for d in admin::devices(&storage)? {
                let role = crate::admin::role_label(&d.role);
                w(
                    &mut out,
                    format!(
                        "{}\t{}\t{}\t{}\t{}",
                        d.id,
                        d.enrolled_at.format("%Y-%m-%d %H:%M"),
                        d.revoked_at
                            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                            .unwrap_or_else(|| "-".to_owned()),
                        role,
                        d.label
                    ),
                )?;
            }
        }
        Command::Export {
            format,
            out: path,
            why,
        } => {
            // Audited before anything is written: an export the log cannot take is not made.
            audit::append(
                &storage,
                &AuditEntry {
                    who: Who::cli(),
                    action: AuditAction::Export,
                    target: format!("mission month=all format={}", format.code()),
                    why: why.trim().to_owned(),
                    at: chrono::Utc::now(),
                },
            )?;
            let n = match path {
                Some(path) => {
                    let file = std::fs::File::create(&path)
                        .map_err(io(format!("create {}", path.display())))?;
                    let mut file = std::io::BufWriter::new(file);
                    export::export(&storage, format, &mut file)?
                }
                None => export::export(&storage, format, &mut out)?,
            };
            eprintln!("exported {n} accepted sessions");
        }
        Command::Audit(AuditCommand::Verify) => {
            let v = audit::verify(&storage)?;
            if let Some(broken) = v.first_broken {
                return Err(CliError::AuditBroken {
                    seq: broken.seq,
                    problem: match broken.problem {
                        Break::Gap { .. } => "entries before it are missing",
                        Break::NotChained => "it does not follow the entry before it",
                        Break::Altered => "it was changed after it was written",
                    },
                });
            }
            w(
                &mut out,
                format!("audit log intact: {} entries, head {}", v.entries, v.head),
            )?;
        }
        Command::Report(args) => {
            if args.min_cell < crate::routes::reports::MIN_CELL_FLOOR {
                eprintln!(
                    "note: --min-cell {} shows counts below {}: for internal analysis only, \
                     do not publish or share these files",
                    args.min_cell,
                    crate::routes::reports::MIN_CELL_FLOOR
                );
            }
            for path in write_report(&storage, &args)? {
                w(&mut out, path.display().to_string())?;
            }
        }
    }
    Ok(())
}

/// Computes the monthly report `args` asks for, writes each of its files into `args.out`,
/// and returns their paths in the order written.
pub fn write_report(storage: &dyn Storage, args: &ReportArgs) -> Result<Vec<PathBuf>, CliError> {
    let month: Month = args
        .month
        .parse()
        .map_err(|_| bad("--month", "must be written YYYY-MM, for example 2026-10"))?;
    let teams = admin::teams(storage)?;
    let scope = match (&args.team, &args.sector, args.mission) {
        (Some(team), None, false) => {
            let team_id: TeamId = team
                .trim()
                .parse()
                .map_err(|_| bad("--team", "needs a team id (see `team list`)"))?;
            if !teams.iter().any(|t| t.id == team_id) {
                return Err(bad("--team", "no team with this id (see `team list`)"));
            }
            ReportScope::Team { team_id }
        }
        (None, Some(sector), false) => {
            let sector = sector.trim().to_owned();
            // A typo in a sector name would otherwise give an empty report that looks real.
            if !teams.iter().any(|t| t.sector == sector) {
                return Err(bad(
                    "--sector",
                    "no team works in this sector (see `team list`)",
                ));
            }
            ReportScope::Sector { sector }
        }
        (None, None, true) => ReportScope::Mission,
        _ => {
            return Err(CliError::Input(
                "give exactly one of --team, --sector or --mission".to_owned(),
            ));
        }
    };
    let formats: Vec<fieldconsult_report::Format> = match args.format.trim() {
        "all" => fieldconsult_report::Format::ALL.to_vec(),
        code => vec![
            fieldconsult_report::Format::from_code(code)
                .ok_or_else(|| bad("--format", "must be html, csv, json, xlsx, pdf, png or all"))?,
        ],
    };
    let lang = match args.lang.trim() {
        "en" => Language::En,
        "fr" => Language::Fr,
        _ => return Err(bad("--lang", "must be en or fr")),
    };
    if args.min_cell > crate::routes::reports::MAX_MIN_CELL {
        return Err(bad("--min-cell", "must be between 0 and 100"));
    }
    let options = ReportOptions {
        min_cell: args.min_cell,
        ..ReportOptions::default()
    };
    let report = crate::reports::monthly_report(storage, scope, month, options)?;
    std::fs::create_dir_all(&args.out).map_err(io(format!("create {}", args.out.display())))?;
    let mut written = Vec::new();
    for format in formats {
        for file in fieldconsult_report::render(&report, format, lang)? {
            // The renderer names files in ASCII without folders; only the last component
            // is used all the same, so a name can never write outside `--out`.
            let name = Path::new(&file.name)
                .file_name()
                .map(|n| n.to_owned())
                .ok_or_else(|| CliError::Input("the renderer gave a file no name".to_owned()))?;
            let path = args.out.join(name);
            std::fs::write(&path, &file.bytes).map_err(io(format!("write {}", path.display())))?;
            written.push(path);
        }
    }
    Ok(written)
}

fn serve(
    storage: Arc<dyn Storage>,
    config: HttpConfig,
    listen: SocketAddr,
) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(io("start the runtime"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(io(format!("listen on {listen}")))?;
        tracing::info!(%listen, "serving");
        crate::app::serve_with(storage, config, listener, crate::app::shutdown_signal())
            .await
            .map_err(io("serve"))
    })
}

/// Reads communities from a CSV file: name,admin_area[,lat,lon], header optional.
pub fn read_communities(path: &Path) -> Result<Vec<CommunityInput>, CliError> {
    let text = std::fs::read_to_string(path).map_err(io(format!("read {}", path.display())))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let rows = crate::csv::parse(text).map_err(|e| CliError::Input(e.to_string()))?;
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let line = i + 1;
        if i == 0
            && row
                .first()
                .is_some_and(|f| f.trim().eq_ignore_ascii_case("name"))
        {
            continue;
        }
        let cell = |j: usize| row.get(j).map(|s| s.trim()).unwrap_or("");
        let coord = |j: usize, what: &str| -> Result<Option<f64>, CliError> {
            match cell(j) {
                "" => Ok(None),
                s => s
                    .parse::<f64>()
                    .map(Some)
                    .map_err(|_| CliError::Input(format!("line {line}: {what} is not a number"))),
            }
        };
        if row.len() > 4 {
            return Err(CliError::Input(format!(
                "line {line}: expected name,admin_area[,lat,lon]"
            )));
        }
        let location = match (coord(2, "lat")?, coord(3, "lon")?) {
            (Some(lat), Some(lon)) => Some(Location { lat, lon }),
            (None, None) => None,
            _ => {
                return Err(CliError::Input(format!(
                    "line {line}: give both lat and lon, or neither"
                )));
            }
        };
        out.push(CommunityInput {
            name: cell(0).to_owned(),
            admin_area: cell(1).to_owned(),
            location,
        });
    }
    Ok(out)
}
