pub mod auth;
pub mod persist;
pub mod server;
