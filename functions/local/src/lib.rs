//! The local runner: every Handoff route on one port, with embedded persistent storage (or
//! DynamoDB and Secrets Manager through an emulator), the Zendesk simulator (or a real account),
//! and local JWT auth standing in for API Gateway's authorizer. It calls the same handlers the
//! Lambdas run (`handoff::api::dispatch`); nothing here is a second implementation of a route.

pub mod auth;
pub mod cli;
pub mod persist;
pub mod server;
pub mod sign_event;

use std::path::Path;
use std::sync::Arc;

use handoff::app::App;
use handoff::http::scopes;
use handoff::store::dynamodb::DynamoStore;
use handoff::store::secrets_manager::SecretsManagerStore;
use handoff::store::*;
use secrecy::SecretString;
use tokio::net::TcpListener;
use url::Url;
use zendesk_sim::Simulator;

use crate::auth::LocalAuth;
use crate::cli::{ServeArgs, StoreKind, TokenArgs, ZendeskKind};

/// Every scope of Handoff's API, the default for minted tokens.
pub const ALL_SCOPES: [&str; 8] = scopes::ALL;

/// The simulator's support agent, whose API token the demo bot is connected with. It is the
/// simulator's own fixed credential, documented in the README, not a secret of anyone's.
pub const SIMULATOR_AGENT_EMAIL: &str = "agent@handoff.local";
pub const SIMULATOR_AGENT_TOKEN: &str = "simulator-agent-token";

/// A second simulator agent, the one who answers visitors in the walk-through (replies by the
/// connected agent would be taken for Handoff's own comments and not forwarded).
pub const SIMULATOR_SUPPORT_NAME: &str = "Carla (support)";
pub const SIMULATOR_SUPPORT_EMAIL: &str = "carla@handoff.local";
pub const SIMULATOR_SUPPORT_TOKEN: &str = "simulator-carla-token";

/// The app's OAuth client as registered with the simulator (the simulator's own, not a secret
/// of anyone's), so the OAuth walk-through works locally.
pub const SIMULATOR_OAUTH_CLIENT_ID: &str = "handoff-local";
pub const SIMULATOR_OAUTH_CLIENT_SECRET: &str = "simulator-oauth-client-secret";

/// The simulator account's own ticket fields, made on first start.
pub const SIMULATOR_TICKET_FIELDS: [(&str, &str); 3] =
    [("Conversation link", "text"), ("Bot rating", "integer"), ("Customer plan", "text")];

/// A failure the runner reports in one line and exits on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{addr} is already in use; stop the other process or choose another address with {flag}")]
    PortBusy { addr: std::net::SocketAddr, flag: &'static str },
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: std::net::SocketAddr, reason: String },
    #[error("cannot use the data folder {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error(transparent)]
    Persist(#[from] persist::PersistError),
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
    #[error("--zendesk real needs {0}")]
    MissingZendesk(String),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

/// Prints a token for `args.bot`.
pub fn mint_token(args: &TokenArgs) -> Result<String, RunError> {
    ensure_data_dir(&args.data_dir)?;
    let auth = LocalAuth::load_or_create(&args.data_dir)?;
    let scopes: Vec<String> =
        if args.scopes.is_empty() { ALL_SCOPES.iter().map(|s| s.to_string()).collect() } else { args.scopes.clone() };
    Ok(auth.mint(&args.bot, &scopes, args.ttl_minutes * 60)?)
}

fn ensure_data_dir(path: &Path) -> Result<(), RunError> {
    let error = |reason: String| RunError::DataDir { path: path.display().to_string(), reason };
    std::fs::create_dir_all(path).map_err(|e| error(e.to_string()))?;
    // Writable? A probe file says so before anything else is started.
    let probe = path.join(".write-test");
    std::fs::write(&probe, b"").map_err(|e| error(e.to_string()))?;
    std::fs::remove_file(&probe).map_err(|e| error(e.to_string()))
}

async fn bind(addr: std::net::SocketAddr, flag: &'static str) -> Result<TcpListener, RunError> {
    TcpListener::bind(addr).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => RunError::PortBusy { addr, flag },
        _ => RunError::Listen { addr, reason: e.to_string() },
    })
}

/// One line on stderr (not a log line, which a filter could hide) when something listens beyond
/// loopback: the runner is for one developer's machine, and the simulator's credentials are public.
fn warn_unless_loopback(what: &str, flag: &str, addr: std::net::SocketAddr) {
    if !addr.ip().is_loopback() {
        eprintln!(
            "warning: {what} listens on {addr}, which is not a loopback address: other machines can reach it, \
             and the local runner is for development only (the simulator's agent credentials are public); \
             use {flag} 127.0.0.1:{} unless you mean this",
            addr.port()
        );
    }
}

/// A started runner: the API's address, the simulator (when used), and the server task.
pub struct Running {
    pub api_url: String,
    pub simulator: Option<Simulator>,
    pub server: tokio::task::JoinHandle<()>,
}

/// Starts everything and returns once the API accepts connections.
pub async fn start(args: &ServeArgs) -> Result<Running, RunError> {
    ensure_data_dir(&args.data_dir)?;
    let real = match args.zendesk {
        ZendeskKind::Real => Some(real_zendesk(args)?),
        ZendeskKind::Simulator => None,
    };
    let listener = bind(args.addr, "--addr").await?;
    warn_unless_loopback("the API", "--addr", args.addr);
    let simulator = match args.zendesk {
        ZendeskKind::Simulator => {
            let persisted = match args.store {
                StoreKind::Embedded => Some(args.data_dir.join("simulator.json")),
                StoreKind::Dynamodb => None,
            };
            let sim = Simulator::start_persisted(args.simulator_addr, persisted).await.map_err(|e| match e.kind() {
                std::io::ErrorKind::AddrInUse => {
                    RunError::PortBusy { addr: args.simulator_addr, flag: "--simulator-addr" }
                }
                _ => RunError::Listen { addr: args.simulator_addr, reason: e.to_string() },
            })?;
            warn_unless_loopback("the simulator", "--simulator-addr", args.simulator_addr);
            sim.add_api_token(SIMULATOR_AGENT_EMAIL, SIMULATOR_AGENT_TOKEN);
            sim.add_agent(SIMULATOR_SUPPORT_NAME, SIMULATOR_SUPPORT_EMAIL, SIMULATOR_SUPPORT_TOKEN);
            sim.add_oauth_client(SIMULATOR_OAUTH_CLIENT_ID, SIMULATOR_OAUTH_CLIENT_SECRET, SIMULATOR_AGENT_EMAIL);
            // An admin connecting by OAuth sees a consent page, as at Zendesk.
            sim.ask_for_consent(true);
            // Custom fields for the console's field mapping to offer (a new account has none).
            if sim.ticket_fields().is_empty() {
                for (title, kind) in SIMULATOR_TICKET_FIELDS {
                    sim.add_ticket_field(title, kind);
                }
            }
            Some(sim)
        }
        ZendeskKind::Real => None,
    };
    let stores = stores(args).await?;
    let zendesk_base = match &simulator {
        Some(sim) => Some(Url::parse(&sim.base_url).map_err(|e| RunError::Config(e.to_string()))?),
        None => None,
    };
    let mut app = App::new(stores, zendesk_base.clone()).map_err(|e| RunError::Config(e.to_string()))?;
    // The simulator's bot runs on this machine too, so its callbacks may go to local addresses;
    // with a real Zendesk the guard stays as in Lambda (a callback URL is anyone's to choose).
    if simulator.is_some() {
        app.allow_local_callbacks();
    }
    app.connect = handoff::connection::ConnectConfig {
        public_base_url: match &args.public_base_url {
            Some(url) => url.clone(),
            None => Url::parse(&format!("http://{}", args.addr)).map_err(|e| RunError::Config(e.to_string()))?,
        },
        allowed_return_urls: handoff::app::parse_url_list(&args.allowed_return_urls)
            .map_err(|e| RunError::Config(e.to_string()))?,
        zendesk_base_url: zendesk_base,
    };
    if simulator.is_some() && app.stores.secrets.get_oauth_client().await?.is_none() {
        let client = handoff::zendesk::oauth::OAuthClient {
            client_id: SIMULATOR_OAUTH_CLIENT_ID.into(),
            client_secret: SecretString::from(SIMULATOR_OAUTH_CLIENT_SECRET),
        };
        app.stores.secrets.put_oauth_client(&client).await?;
    }
    if args.demo_bot != "none" {
        connect_demo_bot(&app, &args.demo_bot, real.as_ref()).await?;
    }
    let mut auth = LocalAuth::load_or_create(&args.data_dir)?;
    if let Some(issuer) = &args.jwt_issuer {
        let audiences = args.jwt_audience.split(',').map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned);
        auth = auth.with_issuer(auth::Issuer::discover(issuer, audiences.collect()).await?);
    }
    match (&args.console_oidc_client_id, &args.jwt_issuer) {
        (Some(client), Some(issuer)) => {
            app.console = handoff::config::ConsoleConfig {
                oidc_issuer: Some(issuer.clone()),
                oidc_client_id: Some(client.clone()),
                oidc_scope: args.console_oidc_scope.clone(),
                embed_origins: Vec::new(),
            };
        }
        (Some(_), None) => return Err(RunError::Config("--console-oidc-client-id needs --jwt-issuer".into())),
        (None, _) => {}
    }
    app.console.embed_origins = handoff::config::parse_origins(&args.embed_origins)
        .map_err(|reason| RunError::Config(format!("--embed-origins: {reason}")))?;
    let console_bot = (args.demo_bot != "none").then(|| args.demo_bot.clone());
    let front = Arc::new(server::Front { app, auth, console_bot });
    tokio::spawn(sweep_periodically(front.clone(), args.sweep_every));
    let server = tokio::spawn(server::serve(listener, front));
    Ok(Running { api_url: format!("http://{}", args.addr), simulator, server })
}

/// The sweeper's schedule, locally: pending escalations, undelivered callbacks and webhook
/// checks are finished as they would be in AWS (every minute there).
async fn sweep_periodically(front: Arc<server::Front>, every_seconds: u64) {
    if every_seconds == 0 {
        return;
    }
    let mut ticker = tokio::time::interval(std::time::Duration::from_secs(every_seconds));
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let deadline = handoff::deadline::Deadline::after(std::time::Duration::from_secs(50));
        handoff::sweeper::sweep(&front.app, deadline).await;
    }
}

/// A real account's subdomain and legacy API-token credentials (OAuth connects come with the
/// connection routes).
struct RealZendesk {
    subdomain: String,
    email: String,
    token: SecretString,
}

fn real_zendesk(args: &ServeArgs) -> Result<RealZendesk, RunError> {
    let token = std::env::var("HANDOFF_ZENDESK_API_TOKEN").ok().filter(|t| !t.is_empty());
    let mut missing = Vec::new();
    if args.zendesk_subdomain.is_none() {
        missing.push("--zendesk-subdomain (or HANDOFF_ZENDESK_SUBDOMAIN)");
    }
    if args.zendesk_email.is_none() {
        missing.push("--zendesk-email (or HANDOFF_ZENDESK_EMAIL)");
    }
    if token.is_none() {
        missing.push("HANDOFF_ZENDESK_API_TOKEN");
    }
    match (&args.zendesk_subdomain, &args.zendesk_email, token) {
        (Some(subdomain), Some(email), Some(token)) => {
            Ok(RealZendesk { subdomain: subdomain.clone(), email: email.clone(), token: SecretString::from(token) })
        }
        _ => Err(RunError::MissingZendesk(missing.join(", "))),
    }
}

async fn stores(args: &ServeArgs) -> Result<Stores, RunError> {
    match args.store {
        StoreKind::Embedded => {
            let store = Arc::new(persist::open_store(&args.data_dir.join("handoff.redb"))?);
            let secrets = Arc::new(persist::open_secrets(&args.data_dir.join("secrets.json"))?);
            // Seen webhook events, callbacks still to deliver and webhook checks are kept in memory
            // only: a restart forgets them (see README "Run it locally").
            Ok(Stores::backed_by(store, secrets))
        }
        StoreKind::Dynamodb => {
            if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
                tracing::warn!("AWS_ENDPOINT_URL is not set: using real AWS with the default credentials");
            }
            // The SDK's credential chain (variables, profiles, web identity, IMDS), with the functions' HTTP client.
            let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .http_client(handoff::aws_sdk::http_client())
                .load()
                .await;
            let dynamo_client = aws_sdk_dynamodb::Client::new(&sdk);
            DynamoStore::create_table(&dynamo_client, &args.table).await?;
            let dynamo = Arc::new(DynamoStore::new(dynamo_client, args.table.clone()));
            let secrets = Arc::new(SecretsManagerStore::new(
                aws_sdk_secretsmanager::Client::new(&sdk),
                args.secret_prefix.clone(),
            ));
            Ok(Stores::backed_by(dynamo, secrets))
        }
    }
}

/// Connects `bot_id` to the chosen Zendesk when it has no connection yet (legacy API token: the
/// simulator's agent, or the real account's from the environment).
async fn connect_demo_bot(app: &App, bot_id: &str, real: Option<&RealZendesk>) -> Result<(), RunError> {
    if !handoff::http::valid_id(bot_id) {
        return Err(RunError::Config(format!("--demo-bot `{bot_id}` is not a valid bot id")));
    }
    let profile = app.stores.bots.load_profile(bot_id).await?;
    if profile.connection.is_some_and(|c| c.state == ConnectionState::Connected) {
        return Ok(());
    }
    let (subdomain, email, token) = match real {
        Some(r) => (r.subdomain.clone(), r.email.clone(), r.token.clone()),
        None => ("simulator".to_owned(), SIMULATOR_AGENT_EMAIL.to_owned(), SecretString::from(SIMULATOR_AGENT_TOKEN)),
    };
    // The same path as `PUT …/zendesk/connection`: verifies the user and registers the webhook.
    let connector = handoff::connection::Connector { stores: &app.stores, zendesk: &app.zendesk, config: &app.connect };
    connector
        .connect_api_token(bot_id, &subdomain, &email, token, Some("handoff-local"))
        .await
        .map_err(|e| RunError::Config(format!("could not connect the demo bot: {e}")))?;
    tracing::info!(bot_id, "connected the demo bot");
    Ok(())
}
