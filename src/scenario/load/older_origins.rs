//! Import provenance in the shape scenarios had before the `origins` map: a Terraform import
//! wrote each NSG's and rule's place as an `origin` field (`FILE:LINE:COLUMN ADDRESS`) while
//! every import also wrote the `origins` map. The two said the same thing, so `nsgsim import`
//! now writes only `origins`; a scenario written before still loads, its `origin` fields read
//! into the same places (where `origins` has no entry for the part), with a warning per field
//! that says how to move to the one shape.

use super::*;

impl Loader<'_> {
    /// Reads `file`'s older `origin` fields into `places`, warning once per field.
    pub(super) fn older_origins(&self, file: &ScenarioFile, places: &mut super::super::Places) {
        for (i, n) in file.nsgs.iter().enumerate() {
            let nsg_key = format!("nsg/{}", n.name);
            let parts = std::iter::once((
                FieldPath::root("nsgs").index(i).field("origin"),
                nsg_key.clone(),
                &n.origin,
            ))
            .chain(n.rules.iter().enumerate().map(|(j, r)| {
                (
                    FieldPath::root("nsgs").index(i).field("rules").index(j).field("origin"),
                    format!("{nsg_key}/rule/{}", r.name),
                    &r.origin,
                )
            }));
            for (field, key, origin) in parts {
                let Some(origin) = origin else { continue };
                places.add_imported(&key, super::super::places::older_origin(origin));
                self.warn(fault(
                    field,
                    origin.clone(),
                    format!(
                        "`origin` is the older shape of import provenance; it is read as the `origins` entry \"{key}\" (an entry already in `origins` wins); re-import the source, or move it to `origins: {{ \"{key}\": Origin(file: \"FILE\", line: LINE, column: COLUMN, path: \"ADDRESS\") }}`"
                    ),
                ));
            }
        }
    }
}
