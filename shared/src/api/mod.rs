//! Request handlers, one module per route family: parse and check the request, call the use
//! case, shape the answer. The function binaries and the local runner call these.

pub mod escalate;
