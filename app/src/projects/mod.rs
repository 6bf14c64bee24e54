//! Projects and their members. Every statement runs in the caller's tenant, so row-level
//! security scopes it to the org whatever its WHERE clause says.
//!
//! - [`rows`]: the projects' rows: every statement on `projects`.
//! - [`members`]: the members' rows: every statement on `project_members`, and who may manage them.
//! - [`routes`]: `/api/v1/orgs/{org}/projects` and its members: authorization, one store call, the answer.

pub mod members;
pub mod routes;
pub mod rows;

pub use members::{ProjectMember, role_of};
pub use routes::router;
pub use rows::Project;
