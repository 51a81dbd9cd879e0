//! Integration tests: one binary, so the AWS emulator starts once and every
//! test gets its own table, queue and schedule group in it.

mod api;
mod api_safety;
mod audit;
mod bad_input;
mod e2e;
mod faults;
mod infra;
mod lifecycle;
mod membership_log;
mod quarantine;
mod safety;
mod schedules;
mod secrets;
mod single_user;
mod sync;
