//! Rendering results for people and programs: narrative text, tables, and JSON.
//!
//! The engine produces plain data (`Trace`, `RunReport` with its outcomes, effective rules,
//! caveats); this module decides how they look, and only here (and in `Display` impls) are
//! sentences made. JSON is built here with `serde_json::Value` so that model types stay free of
//! serialisation concerns; its shape is a contract (see DESIGN.md): a flow verdict is
//! `{"verdict": "Allow"|"Deny", "hops": [{"kind", "resource", "rule", "access", …}], …}`.

mod brief;
mod caveat;
mod effective;
mod html;
mod jit_status;
mod json;
mod lint_findings;
mod outcome;
mod sarif;
#[cfg(test)]
mod sarif_reference;
mod sarif_replay;
mod sarif_rules;
mod sarif_write;
mod service_tags;
mod situation;
mod svg;
mod teach;
mod text;

pub use brief::brief_changes;
pub use caveat::{
    caveat_detail, caveat_json, caveat_line, caveat_name, caveat_names, caveats_html, caveats_json,
    printable, summary_with_caveats,
};
pub use effective::{EffectiveAdminRule, EffectiveNsg, EffectiveRule, NicEffectiveRules, effective_rules};
pub use html::{report_html, rule_diff_table};
pub use jit_status::{jit_status_json, jit_status_text};
pub use json::{
    FlowAsked, effective_json, flow_json, log_entries_json, log_json, nsgs_json, requests_json, run_json,
    step_json, trace_json,
};
pub use lint_findings::{finding_json, findings_text};
pub use outcome::{change_text, happened_text, rule_change_text};
pub use sarif::{
    GITHUB_MAX_LOCATIONS_PER_RESULT, GITHUB_MAX_RESULTS_PER_RUN, GITHUB_MAX_RUNS, SarifLevel, SarifLog,
    SarifResult, SarifRule, sarif_json, write_sarif,
};
pub use sarif_replay::{replay_sarif, side_text};
pub use sarif_rules::{lint_rule, lint_sarif, rule_list};
pub use service_tags::{TagsUsed, service_tags_json, service_tags_note, tags_used};
pub use situation::{action_subjects, action_text, user_facts, vm_facts, world_facts};
pub use svg::{escape, timeline_svg, topology_svg};
pub use teach::{CorrectionsShown, correction_json, correction_line, known_claims_for};
pub use text::{
    EXPANDED_SHOWN, LogFilter, Narration, Narrator, Style, effective_text, log_text, run_footer, run_header,
    run_text, trace_text,
};
