//! What every command that reads a topology shares: the service tags (`--service-tags` or the
//! bundled snapshot) and the template's deployment options (`--parameters`, `--subscription`,
//! `--resource-group`, `--location`, as `az deployment group create` takes them), passed to the
//! commands as one value; loading a file prints its warnings, or its errors and their count.

use crate::Failed;
use std::borrow::Cow;
use std::path::Path;
use vnetlab_analysis::Analysis;
use vnetlab_ingest::{Loaded, Options};
use vnetlab_model::service_tags::ServiceTags;

/// This invocation's service tags and deployment options.
pub struct Inputs {
    pub tags: Cow<'static, ServiceTags>,
    pub deployment: Options,
}

impl Inputs {
    /// Reads the service-tag file when one is given (otherwise the bundled snapshot).
    pub fn new(service_tags: Option<&Path>, deployment: Options) -> Result<Self, Failed> {
        Ok(Inputs {
            tags: load_tags(service_tags)?,
            deployment,
        })
    }

    /// Reads and validates a topology, printing its warnings, or every problem and their count.
    pub fn load(&self, file: &Path) -> Result<Loaded, Failed> {
        match vnetlab_ingest::load_path_with(file, &self.tags, &self.deployment) {
            Ok(loaded) => {
                for w in &loaded.warnings {
                    eprintln!("{w}");
                }
                Ok(loaded)
            }
            Err(diags) => {
                let errors = diags.iter().filter(|d| d.is_error()).count();
                for d in &diags {
                    eprintln!("{d}");
                }
                eprintln!(
                    "{}: {errors} error{} found",
                    file.display(),
                    if errors == 1 { "" } else { "s" }
                );
                Err(Failed)
            }
        }
    }

    /// Loads a topology and answers a query over its analysis.
    pub fn analyse<T>(
        &self,
        file: &Path,
        query: impl FnOnce(&Analysis) -> Result<T, Failed>,
    ) -> Result<T, Failed> {
        let loaded = self.load(file)?;
        query(&Analysis::new(&loaded.topology, &self.tags))
    }
}

fn load_tags(path: Option<&Path>) -> Result<Cow<'static, ServiceTags>, Failed> {
    let Some(path) = path else {
        return Ok(Cow::Borrowed(ServiceTags::bundled()));
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!(
            "error: cannot read service-tag file {}: {e}",
            path.display()
        );
        Failed
    })?;
    ServiceTags::from_json(&text).map(Cow::Owned).map_err(|e| {
        eprintln!("error: {}: {e}\n  hint: download ServiceTags_Public_*.json from Microsoft's download center", path.display());
        Failed
    })
}
