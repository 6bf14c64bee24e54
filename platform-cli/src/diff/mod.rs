//! `platform diff`: how two environments differ, object by object, and why; and what in a
//! cluster has drifted from the committed tree.
//!
//! - [`objects`]: files → comparable objects (Kubernetes objects by identity, other files whole);
//! - [`tree`]: an environment's files on disk;
//! - [`compare`]: the differences, each explained by the manifest field or pin that renders it,
//!   or by a [`migration`] one side has not made yet;
//! - [`live`]: the committed objects against the cluster's;
//! - [`report`]: text, Markdown (size-bounded, for pull requests) and JSON.

pub mod compare;
pub mod live;
pub mod migration;
pub mod objects;
pub mod report;
pub mod tree;

pub use compare::{Class, Comparison, Side, compare};
