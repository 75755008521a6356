//! `nsgsim serve` over real HTTP on an ephemeral loopback port: the page and only its assets, the
//! API's answers (the CLI's JSON), "save as scenario" replayed by `nsgsim run` outcome by outcome,
//! the presenter, and the safety rules (Host and Origin, body limit, errors naming the field,
//! separate and bounded sessions).

use serde_json::{Value, json};

use super::http::{Served, request};
use super::util::{TempDir, nsgsim};

const CLASSROOM: &str = "tests/data/serve/classroom.ron";

fn session(served: &Served, mode: &str) -> String {
    let state = served.post_json("/api/sessions", &json!({ "mode": mode }).to_string(), 201);
    assert_eq!(state["mode"], mode);
    state["session"].as_str().expect("a session id").to_string()
}

#[test]
fn the_page_and_only_its_assets_are_served_from_the_binary() {
    let served = Served::start(CLASSROOM, &[]);
    let page = served.call("GET", "/", None).assert_status(200);
    assert!(page.header("content-type").is_some_and(|t| t.starts_with("text/html")));
    assert!(page.body.contains("<script src=\"/app.js\"></script>"), "{}", page.body);
    let csp = page.header("content-security-policy").expect("a CSP");
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    for (path, kind) in [("/app.js", "text/javascript"), ("/app.css", "text/css")] {
        let asset = served.call("GET", path, None).assert_status(200);
        assert!(asset.header("content-type").is_some_and(|t| t.starts_with(kind)), "{path}");
        // Nothing is fetched from elsewhere: no CDN, no web font, no absolute URL at all.
        for outside in ["http://", "https://", "//cdn", "@import", "url("] {
            assert!(!asset.body.contains(outside), "{path} loads from outside: {outside}");
        }
    }
    for path in ["/etc/passwd", "/../Cargo.toml", "/src/serve/assets/app.js", "/app.js.map", "/favicon.ico"] {
        let e = served.call("GET", path, None).assert_status(404).json();
        assert_eq!(e["field"], "path", "{path}");
    }
    assert_eq!(served.call("POST", "/", Some("{}")).assert_status(405).json()["field"], "method");
}

/// The outcome of a step that both the API and `run --format json` report.
fn outcome(step: &Value) -> Value {
    json!({
        "offset": step["offset"], "kind": step["kind"],
        "action": step["action"], "expect_passed": step["expect"]["passed"], "expect_actual": step["expect"]["actual"],
    })
}

#[test]
fn what_a_sandbox_session_did_is_saved_as_a_scenario_that_run_replays_identically() {
    let served = Served::start(CLASSROOM, &[]);
    let id = session(&served, "sandbox");
    let at = |p: &str| format!("/api/sessions/{id}{p}");
    let mut played: Vec<Value> = Vec::new();
    let act = |played: &mut Vec<Value>, body: Value| {
        let reply = served.post_json(&at("/actions"), &body.to_string(), 200);
        played.push(reply["step"].clone());
        reply["step"].clone()
    };
    let enabled = act(
        &mut played,
        json!({"EnableJit": {"vm": "vm1", "ports": [{"number": 22, "protocol": "Tcp", "max_duration": "PT1H"}, {"number": 3389}]}}),
    );
    assert!(enabled["action"]["summary"].as_str().expect("a summary").contains("enabled JIT on vm 'vm1'"));
    assert_eq!(enabled["action"]["changes"].as_array().expect("changes").len(), 2, "one deny rule per port");
    let granted = act(
        &mut played,
        json!({"RequestJit": {"id": "r1", "user": "alice", "vm": "vm1", "ports": [22], "duration": "30m"}}),
    );
    assert_eq!(granted["action"]["accepted"], true, "{granted}");
    let flow = served.post_json(&at("/eval"), r#"{"from": "alice", "to": "vm1", "port": 22}"#, 200);
    assert_eq!(
        (&flow["verdict"], &flow["from"], &flow["port"]),
        (&json!("Allow"), &json!("alice"), &json!(22))
    );
    assert!(flow["rule"].as_str().expect("a rule").starts_with("securityRules/SecurityCenter-JITRule-"));
    // The same shape as `eval --format json`.
    let cli =
        nsgsim(&["eval", CLASSROOM, "--from", "alice", "--to", "vm1", "--port", "22", "--format", "json"])
            .json();
    let keys = |v: &Value| v.as_object().expect("an object").keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&flow), keys(&cli));
    // A refusal is an outcome with Azure's reason, not an error.
    let refused = act(
        &mut played,
        json!({"RequestJit": {"id": "r2", "user": "dev", "vm": "vm1", "ports": [22], "duration": "2h"}}),
    );
    assert_eq!(refused["action"]["accepted"], false);
    assert!(
        refused["action"]["summary"].as_str().expect("text").contains("exceeds the maximum"),
        "{refused}"
    );
    let clock = served.post_json(&at("/clock"), r#"{"until": "next-expiry"}"#, 200);
    assert_eq!(clock["offset"], "30m");
    let events = clock["events"].as_array().expect("events");
    assert_eq!(events.len(), 1);
    assert!(events[0]["action"]["summary"].as_str().expect("text").contains("expired"));
    played.extend(events.iter().cloned());
    let denied = served.post_json(&at("/eval"), r#"{"from": "alice", "to": "vm1", "port": 22}"#, 200);
    assert_eq!(denied["verdict"], "Deny");
    served.post_json(&at("/clock"), r#"{"advance": "10m"}"#, 200);
    act(&mut played, json!({"EditJit": {"vm": "vm1", "approvers": ["Security Admin"]}}));
    let pending = act(
        &mut played,
        json!({"RequestJit": {"id": "r3", "user": "dev", "vm": "vm1", "ports": [22], "duration": "1h", "source": "198.51.100.0/24", "justification": "deploy"}}),
    );
    assert!(
        pending["action"]["summary"].as_str().expect("text").contains("pending approval by Security Admin"),
        "{pending}"
    );
    let requests = served.get_json(&at("/requests"));
    let r3 = requests["requests"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|r| r["id"] == "r3")
        .expect("r3")
        .clone();
    assert_eq!(r3["status"], "Pending");
    act(&mut played, json!({"ApproveJit": {"request": "r3", "by": "secadmin"}}));
    act(&mut played, json!({"RevokeJit": {"request": "r3", "by": "alice"}}));
    act(
        &mut played,
        json!({"EnableJit": {"vm": "win1", "by": "alice", "ports": [{"number": 3389, "allowed_sources": ["203.0.113.0/24"]}]}}),
    );
    act(&mut played, json!({"Connect": {"name": "rdp", "from": "alice", "to": "win1", "port": 3389}}));
    act(&mut played, json!({"DisableJit": {"vm": "vm1", "by": "alice"}}));
    let state = served.get_json(&at(""));
    assert_eq!(state["recorded"], 12, "10 actions and 2 flows");

    let saved = served.call("GET", &at("/scenario.ron"), None).assert_status(200);
    assert!(saved.header("content-disposition").is_some_and(|d| d.contains("classroom-lesson.ron")));
    assert!(saved.body.starts_with("// The live classroom's test scenario"), "the author's text is kept");
    let dir = TempDir::new("serve-save");
    let file = dir.write("lesson.ron", &saved.body);
    let run = nsgsim(&["run", &file, "--format", "json"]).assert_code(0).json();
    let steps = super::util::array(&run[0], "steps");
    assert_eq!(run[0]["failed"], 0);
    assert_eq!(run[0]["passed"], 2, "the two flows tried are expectations that hold");
    let replayed: Vec<Value> = steps.iter().filter(|s| !s["action"].is_null()).map(outcome).collect();
    let live: Vec<Value> = played.iter().map(outcome).collect();
    assert_eq!(replayed, live, "every action and event, in order, with the same outcome");
    // The activity logs agree entry by entry.
    let log = served.get_json(&at("/log"));
    assert_eq!(log["activity_log"], run[0]["activity_log"]);
}

#[test]
fn the_presenter_plays_the_timeline_as_run_does_and_the_class_can_take_over() {
    let served = Served::start(CLASSROOM, &[]);
    let id = session(&served, "presenter");
    let at = |p: &str| format!("/api/sessions/{id}{p}");
    let state = served.get_json(&at(""));
    assert_eq!(state["presenter"]["total"], 7);
    assert_eq!(
        state["presenter"]["next"]["note"],
        "Nothing is configured yet: SSH is closed by the NSG's default rules."
    );
    // Actions belong to the sandbox; the clock may not run past the next step.
    let e = served.post_json(&at("/actions"), r#"{"DisableJit": {"vm": "vm1"}}"#, 409);
    assert_eq!(e["field"], "mode");
    let run = nsgsim(&["run", CLASSROOM, "--format", "json"]).assert_code(0).json();
    let expected: Vec<Value> = super::util::array(&run[0], "steps").iter().map(outcome).collect();
    let mut got = Vec::new();
    for _ in 0..4 {
        let next = served.post_json(&at("/presenter/next"), "", 200);
        got.extend(next["events"].as_array().expect("events").iter().map(outcome));
        got.push(outcome(&next["step"]));
    }
    let e = served.post_json(&at("/clock"), r#"{"advance": "1h"}"#, 409);
    assert_eq!(e["field"], "advance");
    assert!(e["error"].as_str().expect("text").contains("next step is at +5m"), "{e}");
    for _ in 0..3 {
        let next = served.post_json(&at("/presenter/next"), "", 200);
        got.extend(next["events"].as_array().expect("events").iter().map(outcome));
        got.push(outcome(&next["step"]));
    }
    assert_eq!(got, expected, "the presenter's steps are run's steps");
    assert_eq!(served.post_json(&at("/presenter/next"), "", 409)["field"], "mode", "the timeline is over");
    // The class takes over where the presenter stands.
    served.post_json(&at("/mode"), r#"{"mode": "sandbox"}"#, 200);
    assert_eq!(served.post_json(&at("/mode"), r#"{"mode": "presenter"}"#, 409)["field"], "mode");
    let step = served.post_json(&at("/actions"), r#"{"DisableJit": {"vm": "vm1", "by": "alice"}}"#, 200);
    assert_eq!(step["step"]["offset"], "35m");
    let saved = served.call("GET", &at("/scenario.ron"), None).assert_status(200).body;
    let dir = TempDir::new("serve-presenter");
    let replay = nsgsim(&["run", &dir.write("p.ron", &saved), "--format", "json"]).assert_code(0).json();
    assert_eq!(replay[0]["passed"], 3);
    // Reset returns to the start.
    let state = served.post_json(&at("/reset"), r#"{"mode": "presenter"}"#, 200);
    assert_eq!(
        (&state["offset"], &state["presenter"]["played"], &state["recorded"]),
        (&json!("0s"), &json!(0), &json!(0))
    );
}

#[test]
fn the_jit_page_and_the_nsgs_are_the_clis_facts() {
    let served = Served::start(CLASSROOM, &[]);
    let id = session(&served, "sandbox");
    let jit = served.get_json(&format!("/api/sessions/{id}/jit"));
    let cli = nsgsim(&["jit", "status", CLASSROOM, "--format", "json"]).json();
    assert_eq!(jit["vms"], cli["vms"], "the same rows as jit status --format json");
    served.post_json(&format!("/api/sessions/{id}/actions"), r#"{"EnableJit": {"vm": "win1"}}"#, 200);
    let nsgs = served.get_json(&format!("/api/sessions/{id}/nsgs"));
    let rules = nsgs["nsgs"][0]["rules"].as_array().expect("rules");
    let jit_rules: Vec<&Value> = rules.iter().filter(|r| r["jit"] == "deny").collect();
    assert_eq!(jit_rules.len(), 4, "Defender's four ports when no ports are given: {rules:?}");
    assert_eq!(nsgs["nsgs"][0]["attached"], json!(["subnet prod/servers"]));
    let svg = served.call("GET", &format!("/api/sessions/{id}/topology.svg"), None).assert_status(200);
    assert!(svg.header("content-type").is_some_and(|t| t == "image/svg+xml"));
    assert!(svg.body.contains("data-name=\"vm1\"") && svg.body.contains("data-nsg=\"servers-nsg\""));
    let timeline = served.call("GET", &format!("/api/sessions/{id}/timeline.svg"), None).assert_status(200);
    assert!(timeline.body.starts_with("<svg"));
    let info = served.get_json("/api/scenario");
    let ports: Vec<(&str, u64)> = info["vms"]
        .as_array()
        .expect("vms")
        .iter()
        .map(|v| (v["os"].as_str().unwrap_or(""), v["default_port"].as_u64().unwrap_or(0)))
        .collect();
    assert_eq!(ports, [("Linux", 22), ("Windows", 3389)], "the VM page's per-OS defaults");
}

#[test]
fn a_bad_request_is_a_json_error_naming_the_field_and_the_server_keeps_serving() {
    let served = Served::start(CLASSROOM, &[]);
    let id = session(&served, "sandbox");
    let s = |p: &str| format!("/api/sessions/{id}{p}");
    let big = format!("{{\"DisableJit\": {{\"vm\": \"{}\"}}}}", "x".repeat(70_000));
    let cases: Vec<(&str, String, Option<&str>, u16, &str)> = vec![
        (
            "POST",
            s("/actions"),
            Some(r#"{"RequestJit": {"id": "r", "usr": "alice"}}"#),
            422,
            "RequestJit.usr",
        ),
        (
            "POST",
            s("/actions"),
            Some(r#"{"EnableJit": {"vm": "vm1", "ports": [{"number": "22"}]}}"#),
            422,
            "EnableJit.ports[0].number",
        ),
        (
            "POST",
            s("/actions"),
            Some(r#"{"EnableJit": {"vm": "vm1", "ports": [{"number": 70000}]}}"#),
            422,
            "ports[0].number",
        ),
        ("POST", s("/actions"), Some(r#"{"DisableJit": {"vm": "nope"}}"#), 422, "vm"),
        (
            "POST",
            s("/actions"),
            Some(
                r#"{"RequestJit": {"id": "r", "user": "bob", "vm": "vm1", "ports": [22], "duration": "1h"}}"#,
            ),
            422,
            "user",
        ),
        (
            "POST",
            s("/actions"),
            Some(
                r#"{"RequestJit": {"id": "r", "user": "alice", "vm": "vm1", "ports": [22], "duration": "1y"}}"#,
            ),
            422,
            "duration",
        ),
        (
            "POST",
            s("/actions"),
            Some(r#"{"RemoveRule": {"nsg": "servers-nsg", "rule": "nope"}}"#),
            409,
            "rule",
        ),
        ("POST", s("/actions"), Some(r#"{"Fly": {}}"#), 422, "action"),
        ("POST", s("/actions"), Some("{\"DisableJit\": "), 400, "body"),
        ("POST", s("/actions"), Some(big.as_str()), 413, "body"),
        ("POST", s("/eval"), Some(r#"{"from": "alice", "to": "vm1"}"#), 422, "port"),
        ("POST", s("/eval"), Some(r#"{"from": "alice", "to": "vm1", "port": 99999}"#), 422, "port"),
        ("POST", s("/eval"), Some(r#"{"from": "alice", "to": "nowhere", "port": 22}"#), 422, "to"),
        (
            "POST",
            s("/eval"),
            Some(r#"{"from": "alice", "to": "vm1", "port": 22, "protocol": "gre"}"#),
            422,
            "protocol",
        ),
        (
            "POST",
            s("/eval"),
            Some(r#"{"from": "alice", "to": "vm1", "port": 22, "colour": "red"}"#),
            422,
            "colour",
        ),
        ("POST", s("/clock"), Some(r#"{"advance": "soon"}"#), 422, "advance"),
        ("POST", s("/clock"), Some(r#"{"until": "next-expiry"}"#), 409, "until"),
        ("POST", s("/clock"), Some(r#"{}"#), 422, "advance"),
        ("POST", s("/clock"), Some(r#"{"advance": "P3650000D"}"#), 422, "advance"),
        ("POST", s("/mode"), Some(r#"{"mode": "lecture"}"#), 422, "mode"),
        ("POST", s("/presenter/next"), Some(""), 409, "mode"),
        ("GET", s("/actions"), None, 405, "method"),
        ("GET", s("/nothing"), None, 404, "path"),
        ("GET", "/api/sessions/0123/jit".into(), None, 404, "session"),
        ("GET", "/api/nothing".into(), None, 404, "path"),
        ("POST", "/api/sessions".into(), Some(r#"{"mode": 3}"#), 422, "mode"),
    ];
    for (method, path, body, status, field) in cases {
        let reply = served.call(method, &path, body);
        assert_eq!(reply.status, status, "{method} {path} {body:?}: {}", reply.body);
        assert!(reply.header("content-type").is_some_and(|t| t == "application/json"), "{path}");
        let e = reply.json();
        assert_eq!(e["field"], field, "{method} {path} {body:?}: {e}");
        assert!(e["error"].as_str().is_some_and(|m| !m.is_empty() && m.len() < 600), "{e}");
    }
    // A bad value is shown cut and escaped.
    let e = served.post_json(
        &s("/mode"),
        &json!({ "mode": format!("\u{1b}[31m{}", "y".repeat(400)) }).to_string(),
        422,
    );
    let message = e["error"].as_str().expect("a message");
    assert!(message.contains("\\u{1b}[31m") && message.len() < 300, "{message}");
    // A request id is used once.
    served.post_json(&s("/actions"), r#"{"EnableJit": {"vm": "vm1"}}"#, 200);
    let request =
        r#"{"RequestJit": {"id": "r", "user": "alice", "vm": "vm1", "ports": [22], "duration": "1h"}}"#;
    served.post_json(&s("/actions"), request, 200);
    assert_eq!(served.post_json(&s("/actions"), request, 409)["field"], "id");
    // Still serving, and nothing was recorded by the refusals.
    assert_eq!(served.get_json(&s(""))["recorded"], 2);
}

#[test]
fn foreign_hosts_and_origins_are_refused() {
    let served = Served::start(CLASSROOM, &[]);
    let own = served.addr.to_string();
    let other_port = format!("127.0.0.1:{}", served.addr.port().wrapping_add(1));
    for (headers, field) in [
        (vec![("Host", "evil.example")], "Host"),
        (vec![("Host", "evil.example:80")], "Host"),
        (vec![("Host", other_port.as_str())], "Host"),
        (vec![("Host", own.as_str()), ("Origin", "http://evil.example")], "Origin"),
        (vec![("Host", own.as_str()), ("Origin", "null")], "Origin"),
        (vec![("Host", own.as_str()), ("Sec-Fetch-Site", "cross-site")], "Sec-Fetch-Site"),
    ] {
        for (method, path, body) in [("GET", "/", None), ("POST", "/api/sessions", Some(&b"{}"[..]))] {
            let reply = request(served.addr, method, path, &headers, body);
            assert_eq!(reply.status, 403, "{headers:?} {method} {path}: {}", reply.body);
            assert_eq!(reply.json()["field"], field);
        }
    }
    let origin = format!("http://{own}");
    let localhost = format!("localhost:{}", served.addr.port());
    for headers in
        [vec![("Host", own.as_str()), ("Origin", origin.as_str())], vec![("Host", localhost.as_str())]]
    {
        request(served.addr, "POST", "/api/sessions", &headers, Some(b"{}")).assert_status(201);
    }
    // A name given with --allow-host is the server's too.
    let named = Served::start(CLASSROOM, &["--allow-host", "classroom.lan"]);
    let host = format!("classroom.lan:{}", named.addr.port());
    request(named.addr, "GET", "/api/scenario", &[("Host", &host)], None).assert_status(200);
}

#[test]
fn each_session_has_its_own_simulation_and_their_number_is_bounded() {
    let served = Served::start(CLASSROOM, &["--max-sessions", "2"]);
    let (a, b) = (session(&served, "sandbox"), session(&served, "sandbox"));
    served.post_json(&format!("/api/sessions/{a}/actions"), r#"{"EnableJit": {"vm": "vm1"}}"#, 200);
    served.post_json(&format!("/api/sessions/{a}/clock"), r#"{"advance": "1h"}"#, 200);
    let status = |id: &str| served.get_json(&format!("/api/sessions/{id}/jit"))["vms"][0]["status"].clone();
    assert_eq!((status(&a), status(&b)), (json!("Configured"), json!("Recommended")));
    assert_eq!(served.get_json(&format!("/api/sessions/{b}"))["offset"], "0s");
    // A third session forgets the least recently used (b: a was used last).
    served.get_json(&format!("/api/sessions/{a}"));
    let c = session(&served, "sandbox");
    served.call("GET", &format!("/api/sessions/{b}"), None).assert_status(404);
    served.get_json(&format!("/api/sessions/{a}"));
    served.get_json(&format!("/api/sessions/{c}"));
    served.call("DELETE", &format!("/api/sessions/{c}"), None).assert_status(200);
    served.call("GET", &format!("/api/sessions/{c}"), None).assert_status(404);
}

#[test]
fn serve_refuses_a_bad_file_or_address_with_exit_2_and_binds_loopback_by_default() {
    let dir = TempDir::new("serve-bad");
    let bad =
        dir.write("bad.ron", "Scenario(name: \"x\", start: \"2025-01-06T09:00:00Z\", vms: [Vm(name: 1)])");
    nsgsim(&["serve", &bad]).assert_code(2).stderr_has(&["bad.ron:1:"]);
    nsgsim(&["serve", CLASSROOM, "--bind", "localhost:80x"]).assert_code(2).stderr_has(&["--bind"]);
    let taken = Served::start(CLASSROOM, &[]);
    let addr = taken.addr.to_string();
    nsgsim(&["serve", CLASSROOM, "--bind", &addr]).assert_code(2).stderr_has(&["--bind: cannot listen on"]);
    let help = nsgsim(&["serve", "--help"]);
    help.assert_code(0).stdout_has(&[
        "[default: 127.0.0.1:8080]",
        "--open",
        "--allow-host",
        "--max-sessions",
    ]);
}
