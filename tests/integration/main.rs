//! Integration tests: one binary, so the AWS emulator starts once and every
//! test gets its own table, queue and schedule group in it.

mod api;
mod audit;
mod bad_input;
mod e2e;
mod infra;
mod safety;
mod schedules;
mod secrets;
mod sync;
