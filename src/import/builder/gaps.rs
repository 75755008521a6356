//! What the builder leaves out that can change traffic, and `--strict`.
//!
//! Every such gap (a reference to a resource that is not in the input, a value only a
//! deployment knows replaced by a placeholder, a setting the model cannot express) goes through
//! one of two functions here: it becomes a warning and a caveat of the scenario (so every answer
//! that depends on it names it), or, under `--strict`, a positioned error. An unresolved
//! reference under `--strict` is the error import always gave before references became caveats.

use super::Res;
use crate::import::ImportError;
use crate::import::arm::ResourceRef;
use crate::import::inventory::Inventory;
use crate::import::json_position::file_position;
use crate::import::resource::Kind;
use crate::import::source::Src;
use crate::scenario::schema::{CaveatKindSpec, CaveatSpec};

/// The suffix of every error `--strict` makes of a gap.
const STRICT: &str = "--strict refuses an import that leaves out what can change traffic";

impl Inventory {
    /// Records a gap at `src`: under `--strict` an error with `reason`; else a warning with
    /// `reason` and a caveat of `kind` about `resource`, affecting `affects` (scenario names;
    /// empty = everything).
    pub(in crate::import) fn gap(
        &mut self,
        kind: CaveatKindSpec,
        resource: impl Into<String>,
        src: &Src,
        reason: impl Into<String>,
        affects: Vec<String>,
    ) -> Res<()> {
        let reason = reason.into();
        if self.strict {
            return Err(self.diag.invalid(src, "", format!("{reason}; {STRICT}")));
        }
        self.diag.warn(src, reason.clone());
        let source = file_position(self.diag.file(src.file), src.position);
        self.caveats.push(CaveatSpec::new(kind, resource, source, reason).affecting(affects));
        Ok(())
    }

    /// The defined name a reference `r` at `src` to a resource of type `expected` resolves to;
    /// when the resource is not in the input, `None` after recording the gap (`lost` says what
    /// the scenario goes without, `affects` what it concerns), or under `--strict` the
    /// unresolved-reference error. A reference to the wrong type is always an error.
    pub(super) fn resolve_or_gap(
        &mut self,
        r: &ResourceRef,
        src: &Src,
        expected: &str,
        lost: &str,
        affects: Vec<String>,
    ) -> Res<Option<String>> {
        match self.resolve(r, src, expected) {
            Ok(name) => Ok(Some(name)),
            Err(e) if !r.kind.eq_ignore_ascii_case(expected) => Err(e),
            Err(e) if self.strict => Err(e),
            Err(_) => {
                let label = Kind::of(expected).map_or("resource", Kind::label);
                let reason = format!("{label} '{}' is not in the input: {lost}", r.names.join("/"));
                let resource = format!("{}/{}", r.kind, r.names.join("/"));
                self.gap(CaveatKindSpec::UnresolvedReference, resource, src, reason, affects)?;
                Ok(None)
            }
        }
    }

    /// The error `--strict` makes of a skipped resource that can change traffic (nothing of it
    /// is modelled).
    pub(super) fn strict_skip(&self, kind: &str, name: &str, src: &Src, reason: &str) -> ImportError {
        let named = if name.is_empty() { kind.to_string() } else { format!("{kind} '{name}'") };
        self.diag.invalid(src, "", format!("{named} is not imported ({reason}); {STRICT}"))
    }
}
