//! Cross-function scenarios. Every test here talks to real HTTP peers on loopback: DynamoDB and
//! Secrets Manager through moto's server (and DynamoDB through dynalite as a stricter second
//! opinion), Zendesk through the simulator. `scripts/test` starts the emulators and exports
//! their endpoints; run without them, these tests fail and say so.
//!
//! One crate, one test binary: the AWS SDK makes each test binary slow to link.

#[cfg(test)]
mod bodies;
#[cfg(test)]
mod browser;
#[cfg(test)]
mod cold_path;
#[cfg(test)]
mod conformance;
#[cfg(test)]
mod connect;
#[cfg(test)]
mod console_api;
#[cfg(test)]
mod console_browser;
#[cfg(test)]
mod diagnostics;
#[cfg(test)]
mod escalate;
#[cfg(test)]
mod identity;
#[cfg(test)]
mod lambda_logs;
#[cfg(test)]
mod live;
#[cfg(test)]
mod local_runner;
#[cfg(test)]
mod openapi;
#[cfg(test)]
mod permissions;
#[cfg(test)]
mod privacy;
#[cfg(test)]
mod redirects;
#[cfg(test)]
mod refresh;
#[cfg(test)]
mod secret_hygiene;
#[cfg(test)]
mod secret_split;
#[cfg(test)]
mod settings;
#[cfg(test)]
mod sim_webhooks;
#[cfg(test)]
mod simulator;
#[cfg(test)]
mod status;
#[cfg(test)]
mod support;
#[cfg(test)]
mod template;
#[cfg(test)]
mod test_issuer;
#[cfg(test)]
mod two_way;
#[cfg(test)]
mod visitor_requests;
#[cfg(test)]
mod webhook;
