//! Rendering caveats (what could not be read or modelled and can change traffic): the one caveat
//! line every command prints, the clause `lint`, `diff` and `test` add to their summary line, one
//! line per caveat for `check`, the JSON facts and the HTML section.
//!
//! The sentence is made here and only here, so every command says it the same way. Text from a
//! scenario (a resource name from an imported template) is shown with control characters escaped
//! and cut to [`MAX_TEXT`] characters; the JSON has it whole.

use std::fmt::Write;

use serde_json::{Value, json};

use crate::model::Caveat;

use super::svg::escape;

/// How many caveats the one-line text names before "and N more".
const LISTED: usize = 8;

/// The longest piece of scenario text (a resource, a source, a reason) that text output shows.
const MAX_TEXT: usize = 200;

/// `text` with control characters escaped and cut to 200 characters (`…` marks a
/// cut): how every output shows a piece of scenario text or a bad value.
pub fn printable(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == MAX_TEXT {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// How a sentence names one caveat: `Microsoft.Network/loadBalancers/lb-web (azuredeploy.json:120:7)`,
/// `a remote nested template https://… (main.json:40:9)`.
pub fn caveat_name(c: &Caveat) -> String {
    let mut out = String::new();
    let phrase = c.kind.phrase();
    if !phrase.is_empty() {
        out.push_str(phrase);
        out.push(' ');
    }
    out.push_str(&printable(&c.resource));
    if let Some(source) = &c.source {
        let _ = write!(out, " ({})", printable(&source.to_string()));
    }
    out
}

/// The caveats named in a list: the first eight (`LISTED`), then `and N more`.
pub fn caveat_names(caveats: &[&Caveat]) -> String {
    let mut names: Vec<String> = caveats.iter().take(LISTED).map(|c| caveat_name(c)).collect();
    if caveats.len() > LISTED {
        names.push(format!("and {} more (`nsgsim check` lists them all)", caveats.len() - LISTED));
    }
    names.join(", ")
}

fn things(n: usize) -> String {
    if n == 1 {
        "1 thing that can change traffic was".into()
    } else {
        format!("{n} things that can change traffic were")
    }
}

/// The caveat line of `file`, or `None` without caveats:
/// `caveat: prod.ron: 2 things that can change traffic were not modelled: Microsoft.Network/loadBalancers/lb-web
/// (azuredeploy.json:120:7), a remote nested template https://… — answers may be incomplete`.
pub fn caveat_line(file: &str, caveats: &[&Caveat]) -> Option<String> {
    (!caveats.is_empty()).then(|| {
        format!(
            "caveat: {file}: {} not modelled: {} — answers may be incomplete",
            things(caveats.len()),
            caveat_names(caveats)
        )
    })
}

/// A summary line (`no findings`, `no verdict changes`, `3 passed, 0 failed`) with, when caveats
/// exist, the clause that keeps it from reading as an all-clear:
/// `no findings; but 2 caveats: … — answers may be incomplete`.
pub fn summary_with_caveats(summary: &str, caveats: &[&Caveat]) -> String {
    match caveats.len() {
        0 => summary.to_string(),
        n => {
            let noun = if n == 1 { "caveat" } else { "caveats" };
            format!("{summary}; but {n} {noun}: {} — answers may be incomplete", caveat_names(caveats))
        }
    }
}

/// One caveat in full, for `check`: `UnmodelledResource Microsoft.Network/loadBalancers/lb-web
/// (azuredeploy.json:120:7): load balancers are not modelled…; affects vm-web`.
pub fn caveat_detail(c: &Caveat) -> String {
    let source = c.source.as_ref().map_or(String::new(), |s| format!(" ({})", printable(&s.to_string())));
    let affects = if c.affects_everything() {
        "everything".to_string()
    } else {
        c.affects.iter().map(|a| printable(&a.name)).collect::<Vec<_>>().join(", ")
    };
    format!("{} {}{source}: {}; affects {affects}", c.kind, printable(&c.resource), printable(&c.reason))
}

/// One caveat as JSON: `{"kind", "resource", "source", "reason", "affects": [names]}`, an empty
/// `affects` meaning everything.
pub fn caveat_json(c: &Caveat) -> Value {
    json!({
        "kind": c.kind.as_str(),
        "resource": c.resource,
        "source": c.source.as_ref().map_or(String::new(), |s| s.to_string()),
        "reason": c.reason,
        "affects": c.affects.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
    })
}

/// The caveats as a JSON array of [`caveat_json`] objects.
pub fn caveats_json(caveats: &[&Caveat]) -> Value {
    Value::Array(caveats.iter().map(|c| caveat_json(c)).collect())
}

/// The HTML section naming every caveat (`<section id="caveats">`), or nothing without caveats.
pub fn caveats_html(caveats: &[&Caveat]) -> String {
    if caveats.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<section id=\"caveats\" class=\"caveats\"><h2>Caveats</h2><p class=\"fail\">{} not modelled — answers may be incomplete:</p><ul>",
        things(caveats.len())
    );
    for c in caveats {
        let _ = write!(out, "<li>{}</li>", escape(&caveat_detail(c)));
    }
    out.push_str("</ul></section>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Affected, CaveatKind, CaveatTarget, VmId};

    fn lb() -> Caveat {
        Caveat {
            kind: CaveatKind::UnmodelledResource,
            resource: "Microsoft.Network/loadBalancers/lb-web".into(),
            source: crate::model::CaveatSource::parse("azuredeploy.json:120:7"),
            reason: "load balancers are not modelled".into(),
            affects: vec![Affected { name: "vm-web".into(), targets: vec![CaveatTarget::Vm(VmId(0))] }],
        }
    }

    fn link() -> Caveat {
        Caveat {
            kind: CaveatKind::UnresolvedLink,
            resource: "https://example.com/nested.json".into(),
            source: None,
            reason: "the nested template is not local".into(),
            affects: Vec::new(),
        }
    }

    #[test]
    fn the_line_names_every_caveat_with_its_source() {
        let (a, b) = (lb(), link());
        assert_eq!(
            caveat_line("prod.ron", &[&a, &b]).as_deref(),
            Some(
                "caveat: prod.ron: 2 things that can change traffic were not modelled: Microsoft.Network/loadBalancers/lb-web (azuredeploy.json:120:7), a remote nested template https://example.com/nested.json — answers may be incomplete"
            )
        );
        assert_eq!(
            caveat_line("p.ron", &[&b]).as_deref(),
            Some(
                "caveat: p.ron: 1 thing that can change traffic was not modelled: a remote nested template https://example.com/nested.json — answers may be incomplete"
            )
        );
        assert_eq!(caveat_line("p.ron", &[]), None);
        assert_eq!(summary_with_caveats("no findings", &[]), "no findings");
        assert_eq!(
            summary_with_caveats("no findings", &[&a]),
            "no findings; but 1 caveat: Microsoft.Network/loadBalancers/lb-web (azuredeploy.json:120:7) — answers may be incomplete"
        );
        assert!(summary_with_caveats("x", &[&a, &b]).starts_with("x; but 2 caveats: Microsoft"));
    }

    #[test]
    fn a_long_list_is_cut_and_scenario_text_is_made_printable() {
        let many: Vec<Caveat> =
            (0..LISTED + 3).map(|i| Caveat { resource: format!("r{i}"), source: None, ..lb() }).collect();
        let refs: Vec<&Caveat> = many.iter().collect();
        let line = caveat_line("f", &refs).expect("a line");
        assert!(
            line.contains("11 things") && line.contains("r7, and 3 more") && !line.contains("r8"),
            "{line}"
        );
        let odd = Caveat { resource: format!("a\u{1b}[31m{}", "x".repeat(300)), ..lb() };
        let name = caveat_name(&odd);
        assert!(name.starts_with("a\\u{1b}[31mxxx") && name.contains("x…"), "{name}");
        // Six characters before the x's: `a`, the escape character and `[31m`.
        assert_eq!(name.chars().filter(|&c| c == 'x').count(), MAX_TEXT - 6);
    }

    #[test]
    fn detail_json_and_html_carry_every_fact() {
        let (a, b) = (lb(), link());
        assert_eq!(
            caveat_detail(&a),
            "UnmodelledResource Microsoft.Network/loadBalancers/lb-web (azuredeploy.json:120:7): load balancers are not modelled; affects vm-web"
        );
        assert_eq!(
            caveat_detail(&b),
            "UnresolvedLink https://example.com/nested.json: the nested template is not local; affects everything"
        );
        assert_eq!(
            caveats_json(&[&a, &b]),
            json!([
                {"kind": "UnmodelledResource", "resource": "Microsoft.Network/loadBalancers/lb-web",
                 "source": "azuredeploy.json:120:7", "reason": "load balancers are not modelled", "affects": ["vm-web"]},
                {"kind": "UnresolvedLink", "resource": "https://example.com/nested.json", "source": "",
                 "reason": "the nested template is not local", "affects": []},
            ])
        );
        let html = caveats_html(&[&a]);
        assert!(html.starts_with("<section id=\"caveats\""), "{html}");
        assert!(html.contains("<li>UnmodelledResource Microsoft.Network/loadBalancers/lb-web"), "{html}");
        assert_eq!(caveats_html(&[]), "");
    }
}
