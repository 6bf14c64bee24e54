//! What a config key is: a name, what it accepts (said and checked), a default, and a typed
//! reader. [`super::catalog`] lists the keys; each is declared beside what it configures.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use super::store::ConfigStore;

/// One config key. `T` is its shape; `within` holds the bounds a shape cannot say.
#[derive(Debug)]
pub struct Key<T> {
    pub name: &'static str,
    /// What it accepts, in words; the 422 for a value it refuses says this.
    pub accepts: &'static str,
    /// Only the platform admin may change it: a limit a tenant must not raise for itself.
    pub platform_only: bool,
    pub default: fn() -> T,
    /// The bounds the shape cannot say.
    pub within: fn(&T) -> bool,
}

impl<T: DeserializeOwned> Key<T> {
    fn read(&self, value: &Value) -> Option<T> {
        T::deserialize(value).ok().filter(|v| (self.within)(v))
    }

    /// The org's value as this replica serves it, or the default when it has none.
    pub fn get(&self, configs: &ConfigStore, org: Uuid) -> T {
        configs
            .get(org, self.name)
            .and_then(|entry| self.read(&entry.value))
            .unwrap_or_else(self.default)
    }
}

/// A key of the catalog, whatever its shape: what the config routes and the saga need.
pub trait Spec: Sync + std::fmt::Debug {
    fn name(&self) -> &'static str;
    fn accepts(&self) -> &'static str;
    fn platform_only(&self) -> bool;
    /// The value a new org starts with (the saga's "defaults applied" step).
    fn default_value(&self) -> Value;
    fn valid(&self, value: &Value) -> bool;

    /// Why `value` does not fit this key, with what would.
    fn check(&self, value: &Value) -> Result<(), String> {
        if self.valid(value) {
            Ok(())
        } else {
            Err(format!("{} must be {}; got {value}", self.name(), self.accepts()))
        }
    }
}

impl<T: DeserializeOwned + Serialize + std::fmt::Debug> Spec for Key<T> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn accepts(&self) -> &'static str {
        self.accepts
    }
    fn platform_only(&self) -> bool {
        self.platform_only
    }
    fn default_value(&self) -> Value {
        serde_json::to_value((self.default)()).unwrap_or(Value::Null)
    }
    fn valid(&self, value: &Value) -> bool {
        self.read(value).is_some()
    }
}
