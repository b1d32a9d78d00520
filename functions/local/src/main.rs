//! `handoff-local`: see `handoff_local` and `handoff-local --help`.

use clap::Parser;
use handoff_local::cli::{Cli, Command};

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}

#[tokio::main]
async fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // One line: clap's message and the allowed values, without the usage block.
            let text = e.render().to_string();
            let line: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("For more information") && !l.starts_with("Usage:"))
                .collect();
            eprintln!("{} (see --help)", line.join(" "));
            std::process::exit(2)
        }
        Err(e) => e.exit(),
    };
    handoff::telemetry::init();
    let args = match cli.command {
        Some(Command::Token(args)) => match handoff_local::mint_token(&args) {
            Ok(token) => {
                println!("{token}");
                return;
            }
            Err(e) => fail(e),
        },
        Some(Command::SignEvent(args)) => {
            let signed = std::fs::read_to_string(&args.file)
                .map_err(|e| format!("cannot read {}: {e}", args.file.display()))
                .and_then(|text| {
                    serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", args.file.display()))
                })
                .and_then(|mut event: serde_json::Value| {
                    let now = time::OffsetDateTime::now_utc();
                    handoff_local::sign_event::resign(&mut event, &args.secret, args.ticket_id, now).map(|()| event)
                });
            match signed {
                Ok(event) => {
                    println!("{}", serde_json::to_string_pretty(&event).unwrap_or_default());
                    return;
                }
                Err(e) => fail(e),
            }
        }
        Some(Command::Serve(args)) => *args,
        None => cli.serve,
    };
    let running = match handoff_local::start(&args).await {
        Ok(running) => running,
        Err(e) => fail(e),
    };
    println!("Handoff is running at {}", running.api_url);
    if let Some(sim) = &running.simulator {
        println!("Zendesk simulator: {} (open it in a browser to see its tickets)", sim.base_url);
    }
    println!("Data folder: {}", args.data_dir.display());
    let bot = if args.demo_bot == "none" { "<bot-id>" } else { args.demo_bot.as_str() };
    println!("Mint a token: cargo run -p handoff-local -- token --bot {bot}");
    if let Err(e) = running.server.await {
        fail(e);
    }
}
