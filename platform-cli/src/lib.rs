//! `platform`: one manifest in, a GitOps tree out.
//!
//! - [`model`]: what `platform.yaml` may say (its types, defaults and the component table),
//!   the floor every other module stands on;
//! - [`manifest`]: parse, check and resolve `platform.yaml`;
//! - [`render`]: resolved environments → embedded templates → files;
//! - [`diff`]: two environments, or Git and a cluster, compared object by object;
//! - [`init`]: a new GitOps repository from answers or an example;
//! - [`cli`]: the command line (clap types stay there).

pub mod cli;
pub mod cluster;
pub mod diff;
pub mod init;
pub mod manifest;
pub mod model;
pub mod outdated;
pub mod promote;
pub mod render;
pub mod secrets;
pub mod supply_chain;
pub mod update;
