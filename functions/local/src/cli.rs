//! Command line of the local runner.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "handoff-local",
    version,
    about = "Runs every Handoff route on one local port, calling the same handlers the Lambdas run.",
    long_about = "Runs every Handoff route on one local port, calling the same handlers the Lambdas run.\n\n\
        By default it keeps its data in ./.handoff (an embedded database, a 0600 secrets file and a \
        JWT signing key), talks to a Zendesk simulator it starts itself, and verifies HS256 tokens \
        minted with `handoff-local token`, placing their claims where API Gateway would."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default when no subcommand is given).
    Serve(Box<ServeArgs>),
    /// Print a token for a bot, signed with this data folder's local key.
    Token(TokenArgs),
    /// Print a sample webhook delivery (events/webhook-*.json) signed again now.
    SignEvent(SignEventArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// Files under the data folder (redb database and a 0600 secrets file).
    Embedded,
    /// DynamoDB and Secrets Manager at AWS_ENDPOINT_URL (an emulator) or in AWS.
    Dynamodb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ZendeskKind {
    /// The bundled simulator, started in this process.
    Simulator,
    /// A real Zendesk account: needs --zendesk-subdomain, HANDOFF_ZENDESK_EMAIL and HANDOFF_ZENDESK_API_TOKEN.
    Real,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to serve the API on.
    #[arg(long, env = "HANDOFF_LOCAL_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Folder for local data: database, secrets, signing key, simulator data.
    #[arg(long, env = "HANDOFF_DATA_DIR", default_value = ".handoff")]
    pub data_dir: PathBuf,
    /// Where conversations, settings and secrets are kept.
    #[arg(long, env = "HANDOFF_STORE", value_enum, default_value = "embedded")]
    pub store: StoreKind,
    /// DynamoDB table, with --store dynamodb (created when missing).
    #[arg(long, env = "HANDOFF_TABLE", default_value = "handoff-local")]
    pub table: String,
    /// Secrets Manager name prefix, with --store dynamodb.
    #[arg(long, env = "HANDOFF_SECRET_PREFIX", default_value = "handoff-local/")]
    pub secret_prefix: String,
    /// Which Zendesk to talk to.
    #[arg(long, env = "HANDOFF_ZENDESK", value_enum, default_value = "simulator")]
    pub zendesk: ZendeskKind,
    /// Address of the simulator's API and ticket page (with --zendesk simulator).
    #[arg(long, env = "HANDOFF_SIMULATOR_ADDR", default_value = "127.0.0.1:3001")]
    pub simulator_addr: SocketAddr,
    /// Subdomain of the real Zendesk account (`acme` for acme.zendesk.com).
    #[arg(long, env = "HANDOFF_ZENDESK_SUBDOMAIN")]
    pub zendesk_subdomain: Option<String>,
    /// Email of the real Zendesk agent whose API token is in HANDOFF_ZENDESK_API_TOKEN.
    #[arg(long, env = "HANDOFF_ZENDESK_EMAIL")]
    pub zendesk_email: Option<String>,
    /// A bot connected to the chosen Zendesk at start if it has no connection yet, so the
    /// walk-through works at once (`none` to skip).
    #[arg(long, env = "HANDOFF_DEMO_BOT", default_value = "demo-bot")]
    pub demo_bot: String,
    /// The URL Zendesk's OAuth redirect comes back to (`{base}/oauth/zendesk/callback`); default
    /// http://{--addr}.
    #[arg(long, env = "HANDOFF_PUBLIC_BASE_URL")]
    pub public_base_url: Option<url::Url>,
    /// Seconds between sweeper runs (pending escalations, undelivered callbacks, webhook checks);
    /// 0 turns the sweeper off. AWS runs it every minute.
    #[arg(long, env = "HANDOFF_SWEEP_EVERY", default_value_t = 30)]
    pub sweep_every: u64,
    /// Comma-separated URLs an admin's browser may be sent back to after connecting.
    #[arg(long, env = "HANDOFF_ALLOWED_RETURN_URLS", default_value = "http://127.0.0.1:3000/connected")]
    pub allowed_return_urls: String,
    /// Also accept RS256 tokens of this OpenID Connect issuer (its keys read at start from its
    /// discovery document), as API Gateway's JWT authorizer does in AWS.
    #[arg(long, env = "HANDOFF_LOCAL_JWT_ISSUER")]
    pub jwt_issuer: Option<url::Url>,
    /// The audiences the issuer's tokens must name (`aud` or `client_id`), comma-separated.
    #[arg(long, env = "HANDOFF_LOCAL_JWT_AUDIENCE", default_value = "")]
    pub jwt_audience: String,
    /// `/console` signs the admin in at --jwt-issuer with this public client (Authorization Code
    /// with PKCE), as in AWS, instead of with a token of the runner's own.
    #[arg(long, env = "HANDOFF_CONSOLE_OIDC_CLIENT_ID")]
    pub console_oidc_client_id: Option<String>,
    /// The scopes the console asks the issuer for.
    #[arg(long, env = "HANDOFF_CONSOLE_OIDC_SCOPE", default_value = "openid")]
    pub console_oidc_scope: String,
    /// Origins of dashboards that embed the card and call the API from the browser (CORS, as the
    /// template's EmbedOrigins), comma-separated, such as http://localhost:8080.
    #[arg(long, env = "HANDOFF_EMBED_ORIGINS", default_value = "")]
    pub embed_origins: String,
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// The bot the token is for (its `bot_id` claim).
    #[arg(long, default_value = "demo-bot")]
    pub bot: String,
    /// A scope to grant; repeat for several. Default: every scope of Handoff's API.
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// How long the token is valid, in minutes.
    #[arg(long, default_value_t = 60)]
    pub ttl_minutes: i64,
    /// Folder holding the signing key (the same as the server's).
    #[arg(long, env = "HANDOFF_DATA_DIR", default_value = ".handoff")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct SignEventArgs {
    /// The API Gateway event to sign again (for example events/webhook-agent-reply.json).
    pub file: PathBuf,
    /// The webhook signing secret; default: the fixed test secret from Zendesk's documentation.
    #[arg(long, env = "HANDOFF_WEBHOOK_SECRET", default_value = handoff::webhook::signature::TEST_SIGNING_SECRET)]
    pub secret: String,
    /// Put this ticket id in the delivery (the samples name ticket 35436).
    #[arg(long)]
    pub ticket_id: Option<u64>,
}
