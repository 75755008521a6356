//! Service tags from Microsoft's "Azure IP Ranges and Service Tags" file, through the binary:
//! Microsoft's real Public and Government files (`../shared/data/real-world/service-tags/`, when
//! that directory is beside the checkout, as the corpus tests do) and small generated files in
//! the same shape for a user's clone.

use std::path::PathBuf;

use crate::util::{TempDir, nsgsim, root};

/// Microsoft's file `name` in `../shared`, or `None` (the test says it skips) on a user's clone.
#[expect(clippy::print_stdout, reason = "the test says when it skips")]
fn real_file(name: &str) -> Option<PathBuf> {
    let path = root().join("../shared/data/real-world/service-tags").join(name);
    if path.is_file() {
        Some(path)
    } else {
        println!("note: {} is not here; the test on Microsoft's real file is skipped", path.display());
        None
    }
}

/// A scenario whose web subnet allows TCP 443 from `first` and TCP 8443 from `second` (both
/// service tags), with one VM at 10.0.1.4 behind the public IP 52.0.0.10.
fn tag_scenario(tags_file: &str, first: &str, second: &str) -> String {
    format!(
        r#"Scenario(name: "tags", start: "2025-06-02T10:00:00Z", service_tags_file: "{tags_file}",
    vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "web", prefix: "10.0.1.0/24", nsg: "web-nsg")])],
    nsgs: [Nsg(name: "web-nsg", rules: [
        Rule(name: "https-from-tag", priority: 100, direction: Inbound, access: Allow, protocol: Tcp, source: "{first}", destination_ports: "443"),
        Rule(name: "alt-from-tag", priority: 110, direction: Inbound, access: Allow, protocol: Tcp, source: "{second}", destination_ports: "8443"),
    ])],
    public_ips: [PublicIp(name: "pip", address: "52.0.0.10", sku: Standard)],
    vms: [Vm(name: "vm1", os: Linux, nics: [Nic(name: "nic1", subnet: "v/web", private_ip: "10.0.1.4", public_ip: "pip")])],
)
"#
    )
}

/// `eval` of TCP `port` from `from` to vm1, as JSON.
fn eval_json(file: &str, from: &str, port: &str) -> serde_json::Value {
    let out = nsgsim(&["eval", file, "--from", from, "--to", "vm1", "--port", port, "--format", "json"]);
    out.assert_no_panic().json()
}

#[test]
fn microsofts_public_file_decides_flows_from_a_regional_tag_and_azurecloud() {
    let Some(path) = real_file("ServiceTags_Public.json") else { return };
    let dir = TempDir::new("real-tags");
    let file =
        dir.write("tags.ron", &tag_scenario(&path.display().to_string(), "Storage.WestEurope", "AzureCloud"));
    // 13.69.40.17 is in Storage.WestEurope (13.69.40.16/28) in changeNumber 376.
    let storage = eval_json(&file, "13.69.40.17", "443");
    assert_eq!(storage["verdict"], "Allow", "{storage}");
    assert!(storage.to_string().contains("https-from-tag"), "{storage}");
    assert_eq!(storage["service_tags"]["cloud"], "Public", "{storage}");
    assert_eq!(storage["service_tags"]["change_number"], 376, "{storage}");
    assert_eq!(storage["service_tags"]["from_file"], serde_json::json!(["AzureCloud", "Storage.WestEurope"]));
    // 20.38.96.5 is in AzureCloud but not in Storage.WestEurope: 443 falls to the default deny,
    // 8443 is allowed by the AzureCloud rule.
    let outside = eval_json(&file, "20.38.96.5", "443");
    assert_eq!(outside["verdict"], "Deny", "{outside}");
    let cloud = eval_json(&file, "20.38.96.5", "8443");
    assert_eq!(cloud["verdict"], "Allow", "{cloud}");
    assert!(cloud.to_string().contains("alt-from-tag"), "{cloud}");
    // An address in no Azure range is refused on both ports.
    assert_eq!(eval_json(&file, "198.51.100.5", "8443")["verdict"], "Deny");
    // Text: the note names the file's cloud and changeNumber.
    nsgsim(&["eval", &file, "--from", "13.69.40.17", "--to", "vm1", "--port", "443"])
        .assert_code(0)
        .stderr_has(&[
            "service tags AzureCloud, Storage.WestEurope: from Microsoft's service tags",
            "cloud Public, changeNumber 376",
        ]);
}

#[test]
fn microsofts_government_file_names_its_cloud() {
    let Some(path) = real_file("ServiceTags_Gov.json") else { return };
    let dir = TempDir::new("real-gov-tags");
    let file = dir
        .write("gov.ron", &tag_scenario(&path.display().to_string(), "Storage.USGovArizona", "AzureCloud"));
    // 20.140.244.10 is in Storage.USGovArizona (20.140.244.0/23) in changeNumber 401.
    let storage = eval_json(&file, "20.140.244.10", "443");
    assert_eq!(storage["verdict"], "Allow", "{storage}");
    assert_eq!(storage["service_tags"]["cloud"], "AzureGovernment", "{storage}");
    assert_eq!(storage["service_tags"]["change_number"], 401, "{storage}");
    // A public-cloud Storage.WestEurope address is no Government address.
    assert_eq!(eval_json(&file, "13.69.40.17", "443")["verdict"], "Deny");
    // A public-cloud regional tag is not in the Government file: the nearest names are offered.
    let wrong = dir
        .write("wrong.ron", &tag_scenario(&path.display().to_string(), "Storage.WestEurope", "AzureCloud"));
    nsgsim(&["check", &wrong])
        .assert_code(2)
        .stderr_has(&["Storage.WestEurope", "cloud AzureGovernment, changeNumber 401"]);
}

#[test]
fn lint_with_azurecloud_from_microsofts_file_names_the_file() {
    let Some(path) = real_file("ServiceTags_Public.json") else { return };
    let dir = TempDir::new("real-tags-lint");
    let file =
        dir.write("tags.ron", &tag_scenario(&path.display().to_string(), "AzureCloud", "Storage.WestEurope"));
    let out = nsgsim(&["lint", &file, "--format", "json"]);
    out.assert_no_panic();
    let json = out.json();
    assert_eq!(json["service_tags"]["change_number"], 376, "{json}");
}

/// A service-tag file in Microsoft's shape holding `tags` (name, prefix), cloud Public,
/// changeNumber 377; `features` gives a tag's `networkFeatures` (none when absent).
fn tag_file(tags: &[(&str, &str, Option<&str>)]) -> String {
    let values: Vec<String> = tags
        .iter()
        .map(|(name, prefix, features)| {
            let features = features.map_or(String::new(), |f| format!(r#", "networkFeatures": [{f}]"#));
            format!(
                r#"{{"name": "{name}", "id": "{name}", "properties": {{"changeNumber": 3, "region": "", "regionId": 0, "platform": "Azure", "systemService": "", "addressPrefixes": ["{prefix}"]{features}}}}}"#
            )
        })
        .collect();
    format!(
        "{{\"changeNumber\": 377, \"cloud\": \"Public\", \"values\": [\n  {}\n]}}\n",
        values.join(",\n  ")
    )
}

const NSG_FEATURES: Option<&str> = Some(r#""API", "NSG", "UDR", "FW""#);

#[test]
fn import_with_service_tags_records_the_file_and_checks_tags_against_it() {
    let dir = TempDir::new("import-tag-file");
    std::fs::create_dir_all(dir.path().join("tags")).expect("tags dir");
    let tags = dir.write(
        "tags/ServiceTags_Public.json",
        &tag_file(&[
            ("Storage", "20.38.96.0/19", NSG_FEATURES),
            ("Storage.WestEurope", "20.38.108.0/23", NSG_FEATURES),
            ("Sql.WestEurope", "40.68.37.158/32", NSG_FEATURES),
            ("AzureKeyVault", "13.66.138.88/29", NSG_FEATURES),
            ("AzureFrontDoor.Frontend", "13.107.246.0/24", NSG_FEATURES),
        ]),
    );
    std::fs::create_dir_all(dir.path().join("out")).expect("out dir");
    let out = dir.path().join("out/imported.ron").display().to_string();
    let template = root().join("tests/data/import/service-tags.json").display().to_string();
    let run = nsgsim(&["import", &template, "--service-tags", &tags, "-o", &out]);
    run.assert_code(0).stderr_has(&[
        "service tag 'AzureFrontDoor.Backend' is not in Microsoft's service tags",
        "(cloud Public, changeNumber 377)",
        "AzureFrontDoor.Frontend",
    ]);
    assert!(!run.stderr.contains("'AzureKeyVault'"), "a tag the file holds is no gap:\n{}", run.stderr);
    let text = std::fs::read_to_string(&out).expect("written");
    // Relative to the scenario, as the scenario format reads it.
    assert!(text.contains("service_tags_file: \"../tags/ServiceTags_Public.json\","), "{text}");
    assert!(text.contains("\"AzureFrontDoor.Backend\": [],"), "{text}");
    for held in ["\"AzureKeyVault\": []", "\"Sql.WestEurope\": []", "\"Storage.WestEurope\": []"] {
        assert!(!text.contains(held), "{held} is in the file, so no placeholder:\n{text}");
    }
    // The scenario reads the file it records: its tags come from it.
    nsgsim(&["check", &out])
        .assert_code(0)
        .stdout_has(&["from Microsoft's service tags", "cloud Public, changeNumber 377"]);
    // Without the file the same tags are placeholders, and --strict refuses the one the file lacks.
    let plain = nsgsim(&["import", &template]);
    plain.assert_code(0).stderr_has(&["service tag 'AzureKeyVault' has no members in nsgsim"]);
    nsgsim(&["import", &template, "--service-tags", &tags, "--strict"])
        .assert_code(2)
        .stderr_has(&["AzureFrontDoor.Backend", "AzureFrontDoor.Frontend"]);
    // A file that is not Microsoft's shape is refused at its position, nothing written.
    let bad = dir.write("bad.json", "{\"values\": [{\"name\": \"X\"}]}");
    nsgsim(&["import", &template, "--service-tags", &bad]).assert_code(2).stderr_has(&[
        "--service-tags",
        "bad.json:1:",
        "properties",
    ]);
}

#[test]
fn lint_reports_tags_microsofts_file_does_not_mark_for_nsgs_and_what_it_cannot_know() {
    let dir = TempDir::new("tag-features");
    dir.write(
        "tags.json",
        &tag_file(&[
            ("Storage.WestEurope", "20.38.108.0/23", NSG_FEATURES),
            ("AzureResourceManager.NorwayEast", "51.120.0.0/30", Some(r#""API""#)),
            ("ActionGroup.WestEurope", "4.145.74.52/30", None),
        ]),
    );
    let file = dir.write(
        "s.ron",
        &tag_scenario("tags.json", "AzureResourceManager.NorwayEast", "ActionGroup.WestEurope"),
    );
    let out = nsgsim(&["lint", &file, "--format", "json"]);
    out.assert_no_panic();
    let json = out.json();
    let findings = json["findings"].as_array().unwrap_or_else(|| panic!("findings: {json}"));
    let of = |code: &str| findings.iter().filter(|f| f["code"] == code).cloned().collect::<Vec<_>>();
    let not_marked = of("NSG009-tag-not-marked-for-nsg");
    assert_eq!(not_marked.len(), 1, "{json}");
    assert_eq!(not_marked[0]["severity"], "warning");
    assert!(
        not_marked[0]["message"].as_str().is_some_and(
            |m| m.contains("AzureResourceManager.NorwayEast") && m.contains("[API], without NSG")
        ),
        "{json}"
    );
    let unknown = of("NSG010-tag-nsg-use-unknown");
    assert_eq!(unknown.len(), 1, "{json}");
    assert_eq!(unknown[0]["severity"], "info");
    assert!(
        unknown[0]["message"].as_str().is_some_and(|m| m.contains("cannot be known from the file")),
        "{json}"
    );
    // SARIF carries both rules with Microsoft's page.
    let sarif = nsgsim(&["lint", &file, "--format", "sarif"]);
    for needle in ["NSG009-tag-not-marked-for-nsg", "NSG010-tag-nsg-use-unknown", "service-tags-overview"] {
        assert!(sarif.stdout.contains(needle), "{needle}:\n{}", sarif.stdout);
    }
    // A tag the file marks for NSGs is quiet.
    let quiet = dir.write("q.ron", &tag_scenario("tags.json", "Storage.WestEurope", "Storage.WestEurope"));
    let out = nsgsim(&["lint", &quiet]);
    assert!(!out.stdout.contains("NSG009") && !out.stdout.contains("NSG010"), "{}", out.stdout);
}

/// One VM with RDP open to an admin /24 and WinRM over HTTPS to any source; JIT on SSH from 1m,
/// a JIT request from alice's address at 5m and one from any source at 1h, 30 minutes each.
const JIT_WIDTHS: &str = r#"Scenario(name: "widths", start: "2025-01-06T09:00:00Z",
    vnets: [Vnet(name: "prod", address_space: ["10.1.0.0/16"], subnets: [Subnet(name: "servers", prefix: "10.1.1.0/24", nsg: "servers-nsg")])],
    nsgs: [Nsg(name: "servers-nsg", rules: [
        Rule(name: "rdp-admins", priority: 1000, direction: Inbound, access: Allow, protocol: Tcp, source: "203.0.113.0/24", destination_ports: "3389"),
        Rule(name: "winrm-any", priority: 1010, direction: Inbound, access: Allow, protocol: Tcp, source: "*", destination_ports: "5986"),
    ])],
    public_ips: [PublicIp(name: "vm1-pip", address: "20.10.0.4", sku: Standard)],
    vms: [Vm(name: "vm1", os: Linux, nics: [Nic(name: "vm1-nic", subnet: "prod/servers", private_ip: "10.1.1.4", public_ip: "vm1-pip")])],
    users: [User(name: "alice", roles: ["Contributor"], source_ip: "198.51.100.10")],
    timeline: [
        (at: "1m", action: EnableJit(vm: "vm1", by: "alice", ports: [Port(number: 22, protocol: Tcp, max_duration: "PT3H")])),
        (at: "5m", action: RequestJit(id: "one", user: "alice", vm: "vm1", ports: [22], duration: "30m")),
        (at: "1h", action: RequestJit(id: "any", user: "alice", vm: "vm1", ports: [22], duration: "30m", source: "*")),
    ])
"#;

#[test]
fn exposure_labels_each_window_wide_or_narrow_and_lint_reports_the_wide_ones() {
    let dir = TempDir::new("widths");
    let file = dir.write("w.ron", JIT_WIDTHS);
    let out = nsgsim(&["exposure", &file, "--format", "json"]);
    out.assert_code(0);
    let json = out.json();
    let windows = json["windows"].as_array().unwrap_or_else(|| panic!("windows: {json}"));
    let find = |port: u16, from: &str| {
        windows
            .iter()
            .find(|w| w["port"] == port && w["from_offset"] == from)
            .unwrap_or_else(|| panic!("no window of port {port} from {from}: {json}"))
    };
    // Standing rules: an admin range is narrow, any source is wide.
    assert_eq!(find(3389, "0s")["width"], "narrow", "{json}");
    assert_eq!(find(3389, "0s")["width_reason"], "only 256 IPv4 addresses", "{json}");
    assert_eq!(find(5986, "0s")["width"], "wide", "{json}");
    assert_eq!(find(5986, "0s")["width_reason"], "any Internet address", "{json}");
    // JIT grants: from alice's address narrow, from any source wide, each for its 30 minutes.
    let one = find(22, "5m");
    assert_eq!((one["width"].as_str(), one["to_offset"].as_str()), (Some("narrow"), Some("35m")), "{json}");
    let any = find(22, "1h");
    assert_eq!((any["width"].as_str(), any["to_offset"].as_str()), (Some("wide"), Some("1h30m")), "{json}");
    nsgsim(&["exposure", &file])
        .assert_code(0)
        .stdout_has(&["[wide: any Internet address]", "[narrow: only 1 IPv4 address]"]);
    // lint at the start: the wide WinRM rule is NSG011, the narrow RDP range is not.
    let lint = nsgsim(&["lint", &file, "--format", "json"]);
    let json = lint.json();
    let wide: Vec<&serde_json::Value> = json["findings"]
        .as_array()
        .map(|f| f.iter().filter(|f| f["code"] == "NSG011-management-exposure-width").collect())
        .unwrap_or_default();
    assert_eq!(wide.len(), 1, "{json}");
    assert_eq!(wide[0]["severity"], "warning");
    assert!(
        wide[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("TCP 5986 is exposed wide") && m.contains("any Internet address")),
        "{json}"
    );
    // During the grant from any source, lint says the JIT grant opened a wide window.
    let during = nsgsim(&["lint", &file, "--at", "1h10m"]);
    during.stdout_has(&[
        "NSG011-management-exposure-width",
        "TCP 22 is exposed wide to the Internet, for the grant's duration",
        "opened by an active JIT grant",
    ]);
}
