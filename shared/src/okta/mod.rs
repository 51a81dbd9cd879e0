//! Okta management API: the client, its error type, the objects it reads and
//! the rate-limit governor.

mod client;
mod error;
mod governor;
mod link;
mod model;

pub use client::{
    CallCounts, CallStats, ClientOptions, OktaClient, Page, UserSelection, GROUPS_PAGE_SIZE,
    LOGS_PAGE_SIZE, MEMBERS_PAGE_SIZE, USERS_PAGE_SIZE,
};
pub use error::OktaError;
pub use governor::{Governor, GovernorSettings};
pub use link::next_link;
pub use model::{
    LogEvent, MemberRef, MembershipChange, MembershipEvent, OktaGroup, OktaUser, MEMBERSHIP_ADD,
    MEMBERSHIP_REMOVE, USER_DELETE, USER_STATUSES,
};
