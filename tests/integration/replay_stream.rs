//! `nsgsim replay` on inputs as they are stored and at scale (issue 20): Network Watcher's
//! directory layout, gzip, standard input, malformed records mid-stream (`--skip-bad`), and output
//! that does not depend on the number of threads.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::{Output, TempDir, array, nsgsim, root, scenario, string};

const SCENARIO: &str = "01-nsg-evaluation-order.ron";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(root().join("tests/data/flowlogs").join(name)).expect("fixture")
}

/// `nsgsim ARGS` with `stdin` on standard input and `env` set.
fn nsgsim_with(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nsgsim"));
    command.args(args).current_dir(root()).env("NO_COLOR", "1").env_remove("RUST_BACKTRACE");
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the nsgsim binary runs");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin).expect("stdin is written");
    }
    let out = child.wait_with_output().expect("the nsgsim binary ends");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

/// The parts of a JSON report that depend on the flows only (not on file names).
fn answers(json: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for key in [
        "records",
        "flows",
        "evaluated",
        "compared",
        "agrees",
        "verdicts",
        "azure_verdicts",
        "rules",
        "unused_rules",
    ] {
        out.insert(key.into(), json[key].clone());
    }
    Value::Object(out)
}

#[test]
fn a_network_watcher_directory_gzip_and_stdin_give_the_answers_of_the_files() {
    let dir = TempDir::new("replay-layout");
    let base = "resourceId=/SUBSCRIPTIONS/0/RESOURCEGROUPS/PROD-RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS";
    let nic =
        dir.path().join(format!("{base}/WEB-NIC-NSG/y=2025/m=01/d=06/h=09/m=00/macAddress=000D3A1B2C3D"));
    let subnet =
        dir.path().join(format!("{base}/WEB-SUBNET-NSG/y=2025/m=01/d=06/h=09/m=00/macAddress=000D3A1B2C3D"));
    std::fs::create_dir_all(&nic).expect("dirs");
    std::fs::create_dir_all(&subnet).expect("dirs");
    std::fs::write(nic.join("PT1H.json"), fixture("nsg-v1-web-nic.json")).expect("write");
    std::fs::write(subnet.join("PT1H.json.gz"), gzip(fixture("nsg-v2-web-subnet.json").as_bytes()))
        .expect("write");
    // Not a flow log: left alone by the walk.
    std::fs::write(subnet.join("README.txt"), "notes").expect("write");

    let files = [
        root().join("tests/data/flowlogs/nsg-v1-web-nic.json").display().to_string(),
        root().join("tests/data/flowlogs/nsg-v2-web-subnet.json").display().to_string(),
    ];
    let by_files =
        nsgsim(&["replay", &scenario(SCENARIO), &files[0], &files[1], "--at", "0", "--format", "json"]);
    by_files.assert_code(0);
    let top = dir.path().join("resourceId=").display().to_string();
    let by_dir = nsgsim(&["replay", &scenario(SCENARIO), &top, "--at", "0", "--format", "json"]);
    by_dir.assert_code(0);
    let (by_files, by_dir) = (by_files.json(), by_dir.json());
    assert_eq!(answers(&by_dir), answers(&by_files));
    // The walk is in path order: WEB-NIC-NSG before WEB-SUBNET-NSG; the gzip is read as JSON.
    let inputs = array(&by_dir, "inputs");
    assert!(
        string(&inputs[0], "file")
            .ends_with("WEB-NIC-NSG/y=2025/m=01/d=06/h=09/m=00/macAddress=000D3A1B2C3D/PT1H.json")
    );
    assert!(string(&inputs[1], "file").ends_with("PT1H.json.gz"));
    assert_eq!(string(&inputs[1], "format"), "NSG flow log version 2");

    // Standard input, gzipped or not.
    let v1 = fixture("nsg-v1-web-nic.json");
    for stdin in [v1.as_bytes().to_vec(), gzip(v1.as_bytes())] {
        let out =
            nsgsim_with(&["replay", &scenario(SCENARIO), "-", "--at", "0", "--format", "json"], &stdin, &[]);
        out.assert_code(0);
        let json = out.json();
        assert_eq!(json["compared"], 4);
        assert_eq!(string(&array(&json, "inputs")[0], "file"), "(stdin)");
    }
}

#[test]
fn a_malformed_tuple_mid_stream_is_a_positioned_error_or_with_skip_bad_counted_and_skipped() {
    let dir = TempDir::new("replay-skip-bad");
    let text = fixture("nsg-v1-web-nic.json").replace("50200,22,T,I,D", "50200,22,X,I,D");
    let bad = dir.write("bad.json", &text);
    nsgsim(&["replay", &scenario(SCENARIO), &bad, "--at", "0"]).assert_code(2).stderr_has(&[
        "bad.json:30:19: records[0].properties.flows[1].flows[0].flowTuples[0]: field 6 (protocol) 'X': valid: T (TCP) or U (UDP)",
    ]);
    let out = nsgsim(&["replay", &scenario(SCENARIO), &bad, "--at", "0", "--skip-bad"]);
    out.assert_code(0).stdout_has(&[
        "skipped --skip-bad skipped 1 malformed tuple or line, 0 malformed records and the rest of 0 inputs",
        "bad.json:30:19: records[0].properties.flows[1].flows[0].flowTuples[0]: field 6 (protocol) 'X'",
        "evaluated 3,",
    ]);
    out.stderr_has(&["warning: --skip-bad skipped 1 malformed tuple or line"]);
    let json = nsgsim(&["replay", &scenario(SCENARIO), &bad, "--at", "0", "--skip-bad", "--format", "json"]);
    let json = json.assert_code(0).json();
    assert_eq!(json["skipped"]["tuples"], 1);
    assert!(json["skipped"]["errors"][0].as_str().is_some_and(|e| e.contains("bad.json:30:19")));

    // A whole record with a bad field goes, with its tuples.
    let text = fixture("nsg-v1-web-nic.json").replace("\"Version\": 1,", "\"Version\": 7,");
    let bad_record = dir.write("bad-record.json", &text);
    let json =
        nsgsim(&["replay", &scenario(SCENARIO), &bad_record, "--at", "0", "--skip-bad", "--format", "json"]);
    let json = json.assert_code(0).json();
    assert_eq!((json["skipped"]["records"].as_u64(), json["evaluated"].as_u64()), (Some(1), Some(0)));

    // A CSV line likewise.
    let csv = dir.write("bad.csv", "src,dst,src_port,dst_port,protocol,expected\n198.18.0.1,10.0.1.4,1,443,tcp,allow\n10.0.1.4,10.0.2.999,1,2,tcp,\n");
    nsgsim(&["replay", &scenario(SCENARIO), &csv, "--at", "0"])
        .assert_code(2)
        .stderr_has(&["bad.csv:3:10: dst '10.0.2.999'"]);
    nsgsim(&["replay", &scenario(SCENARIO), &csv, "--at", "0", "--skip-bad"])
        .assert_code(0)
        .stdout_has(&["bad.csv:3:10: dst '10.0.2.999'", "evaluated 1,"]);
}

#[test]
fn truncated_gzip_and_invalid_utf8_are_positioned_errors() {
    let dir = TempDir::new("replay-broken-streams");
    let whole = gzip(fixture("nsg-v1-web-nic.json").as_bytes());
    let cut = dir.path().join("cut.json.gz");
    std::fs::write(&cut, &whole[..whole.len() - 20]).expect("write");
    let cut = cut.display().to_string();
    let out = nsgsim(&["replay", &scenario(SCENARIO), &cut, "--at", "0"]);
    out.assert_code(2).stderr_has(&["cut.json.gz:", "the gzip stream is truncated or corrupt"]);
    // With --skip-bad the rest of that input is skipped and said so; what was read still counts.
    let out = nsgsim(&["replay", &scenario(SCENARIO), &cut, "--at", "0", "--skip-bad"]);
    out.assert_no_panic();
    out.stdout_has(&["the rest of 1 input"]);

    let mut bytes = fixture("nsg-v1-web-nic.json").into_bytes();
    let at = bytes.windows(9).position(|w| w == b"198.18.0.").expect("an address");
    bytes[at + 2] = 0xff;
    let utf8 = dir.path().join("latin.json");
    std::fs::write(&utf8, &bytes).expect("write");
    nsgsim(&["replay", &scenario(SCENARIO), &utf8.display().to_string(), "--at", "0"])
        .assert_code(2)
        .stderr_has(&["latin.json:18:33: byte 0xFF is not valid UTF-8; valid: text encoded as UTF-8"]);
}

/// A version 2 log of `records` records, each a copy of the fixture's with its own times and
/// ports, so that connections differ.
fn generated_log(records: usize) -> String {
    let one = fixture("nsg-v2-web-subnet.json");
    let start = one.find("{\n      \"time\"").expect("a record");
    let end = one.rfind("\n  ]").expect("the end of records");
    let record = &one[start..end];
    let mut out = String::from("{\"records\": [");
    for i in 0..records {
        if i > 0 {
            out.push(',');
        }
        out.push_str(
            &record
                .replace("50300,22", &format!("{},22", 1024 + i))
                .replace("53,1732", &format!("53,{}", 2000 + i))
                .replace("40001,80", &format!("{},80", 3000 + i)),
        );
    }
    out.push_str("]}");
    out
}

#[test]
fn output_does_not_depend_on_the_number_of_threads_on_a_log_of_many_chunks() {
    let dir = TempDir::new("replay-threads");
    let file = dir.write("big.json", &generated_log(40_000));
    let mut outputs = Vec::new();
    for (args, env) in [
        (vec!["--threads", "1"], vec![]),
        (vec!["--threads", "2"], vec![]),
        (vec!["--threads", "3"], vec![]),
        (vec!["--threads", "40"], vec![]),
        (vec![], vec![]),
    ] {
        for format in ["text", "json"] {
            let s = scenario(SCENARIO);
            let mut all = vec!["replay", s.as_str(), file.as_str(), "--at", "0", "-q", "--format", format];
            all.extend(args.iter());
            let out = nsgsim_with(&all, b"", &env);
            out.assert_code(0);
            outputs.push((format, out.stdout));
        }
    }
    let json: Value = serde_json::from_str(&outputs[1].1).expect("json");
    // 40,000 records of five tuples: the B, C and E of one connection count once.
    assert_eq!((json["records"].as_u64(), json["flows"].as_u64()), (Some(200_000), Some(120_000)));
    for (format, out) in &outputs {
        let first = &outputs.iter().find(|(f, _)| f == format).expect("one").1;
        assert_eq!(out, first, "outputs differ ({format})");
    }
}

#[test]
fn several_inputs_with_a_broken_one_read_the_same_on_one_two_and_three_threads() {
    // Lanes read the inputs in turn and parse chunks out of order: each input's start, its
    // chunks, an error that skips the rest of an input, and the next input must be accounted in
    // input order whatever the number of lanes.
    let dir = TempDir::new("replay-inputs-in-order");
    let big = dir.write("big.json", &generated_log(3_000));
    let whole = generated_log(3_000);
    let cut = dir.write("cut.json", &whole[..whole.len() * 2 / 3]);
    let csv = root().join("tests/data/flowlogs/flows.csv").display().to_string();
    let s = scenario(SCENARIO);
    for format in ["text", "json"] {
        let run = |threads: &str| {
            nsgsim(&[
                "replay",
                &s,
                &big,
                &cut,
                &csv,
                &big,
                "--at",
                "0",
                "-q",
                "--skip-bad",
                "--format",
                format,
                "--threads",
                threads,
            ])
        };
        let (one, two, three) = (run("1"), run("2"), run("3"));
        one.assert_code(0);
        assert_eq!(one.stdout, two.stdout, "{format}");
        assert_eq!(one.stderr, two.stderr, "{format}");
        assert_eq!(one.stdout, three.stdout, "{format}");
        assert_eq!(one.stderr, three.stderr, "{format}");
        if format == "json" {
            let json: Value = serde_json::from_str(&one.stdout).expect("json");
            assert_eq!(json["skipped"]["rest_of_inputs"].as_u64(), Some(1), "{}", one.stdout);
            assert_eq!(array(&json, "inputs").len(), 4);
        }
    }
    // Without --skip-bad the broken input stops the replay, at the same place.
    let run =
        |threads: &str| nsgsim(&["replay", &s, &big, &cut, &csv, "--at", "0", "-q", "--threads", threads]);
    let (one, two) = (run("1"), run("2"));
    one.assert_code(2).stderr_has(&["cut.json:"]);
    assert_eq!(one.stderr, two.stderr);
}

/// The line and column (1-based, the column in characters) of byte `at` of `text`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[test]
fn records_cut_in_parallel_give_exact_answers_and_exactly_placed_errors() {
    let dir = TempDir::new("replay-lanes");
    let records = 10_000;
    let plain = generated_log(records);
    // Every record also holds an object that starts as a record does, after a comma: records
    // must still be read whole (a reader guessing record boundaries would be wrong there).
    let tricky = plain.replace("\"operationName\"", "\"extra\": [0,\n {\"time\": 1}], \"operationName\"");
    let plain_file = dir.write("plain.json", &plain);
    let tricky_file = dir.write("tricky.json", &tricky);
    let run = |file: &str, threads: &str| {
        let s = scenario(SCENARIO);
        nsgsim(&["replay", &s, file, "--at", "0", "-q", "--format", "json", "--threads", threads])
    };
    let expected = answers(&run(&plain_file, "1").assert_code(0).json());
    assert_eq!(expected["records"], 5 * records);
    for threads in ["1", "2", "3"] {
        assert_eq!(answers(&run(&plain_file, threads).assert_code(0).json()), expected, "{threads} threads");
        assert_eq!(answers(&run(&tricky_file, threads).assert_code(0).json()), expected, "{threads} threads");
    }

    // A malformed tuple deep in the log, many chunks in: its line, column and path are exact,
    // whatever the number of threads (lanes parse chunks out of order and stop at the first error
    // in input order).
    let record = 7_123;
    let needle = format!("{},22,T,I,D", 1024 + record);
    let at = plain.find(&needle).expect("the record's first tuple");
    let quote = plain[..at].rfind('"').expect("the tuple's opening quote");
    let (line, column) = line_column(&plain, quote);
    let bad = format!("{}{},22,X,I,D{}", &plain[..at], 1024 + record, &plain[at + needle.len()..]);
    let bad_file = dir.write("bad.json", &bad);
    let message = format!(
        "bad.json:{line}:{column}: records[{record}].properties.flows[0].flows[0].flowTuples[0]: field 6 (protocol) 'X': valid: T (TCP) or U (UDP)"
    );
    for threads in ["1", "2", "3"] {
        run(&bad_file, threads).assert_code(2).stderr_has(&[&message]);
    }
}

#[test]
fn rules_carry_their_flows_per_hour_and_when_they_were_first_and_last_seen() {
    let out = nsgsim(&[
        "replay",
        &scenario(SCENARIO),
        &root().join("tests/data/flowlogs/nsg-v1-web-nic.json").display().to_string(),
        "--at",
        "0",
        "--format",
        "json",
    ]);
    let json = out.assert_code(0).json();
    let https = array(&json, "rules")
        .iter()
        .find(|r| string(r, "nsg") == "web-nic-nsg" && string(r, "rule") == "securityRules/allow-https")
        .expect("allow-https decided flows")
        .clone();
    assert_eq!(https["flows"], 2);
    assert_eq!(string(&https, "first_seen"), "2025-01-06T09:00:10Z");
    assert_eq!(string(&https, "last_seen"), "2025-01-06T09:00:25Z");
    let hours = array(&https, "hours");
    assert_eq!(hours.len(), 1);
    assert_eq!((string(&hours[0], "hour"), hours[0]["flows"].as_u64()), ("2025-01-06T09:00:00Z", Some(2)));
}

#[test]
fn against_a_proposal_classes_observed_paths_and_fail_on_break_gates_ci() {
    let dir = TempDir::new("replay-against");
    let current = std::fs::read_to_string(scenario(SCENARIO)).expect("scenario");
    // The proposal narrows web-nic-nsg's HTTPS rule to the admin range.
    let narrowed = current.replace(
        "Rule(name: \"allow-https\", priority: 200, direction: Inbound, access: Allow, protocol: Tcp,\n                     source: \"*\", destination_ports: \"443\"),",
        "Rule(name: \"allow-https\", priority: 200, direction: Inbound, access: Allow, protocol: Tcp,\n                     source: \"203.0.113.0/24\", destination_ports: \"443\"),",
    );
    assert_ne!(narrowed, current, "the proposal changes the rule");
    let proposed = dir.write("proposed.ron", &narrowed);
    let log = root().join("tests/data/flowlogs/nsg-v1-web-nic.json").display().to_string();
    let base = ["replay", &scenario(SCENARIO), &log, "--at", "0", "--against", &proposed];
    let out = nsgsim(&[&base[..], &["--format", "json"]].concat());
    let json = out.assert_code(0).json();
    let impact = &json["impact"];
    assert_eq!(impact["flows"]["Impacted"], 2);
    assert_eq!(impact["flows"]["Not impacted"], 2);
    assert_eq!(impact["would_break"], 2);
    let paths = array(impact, "paths");
    assert_eq!(paths.len(), 2);
    assert_eq!(string(&paths[0], "class"), "Impacted");
    assert_eq!(string(&paths[0]["before"], "rule"), "securityRules/allow-https");
    assert_eq!(paths[0]["before"]["priority"], 200);
    assert_eq!(string(&paths[0]["after"], "rule"), "defaultSecurityRules/DenyAllInBound");
    // CI gate.
    nsgsim(&[&base[..], &["--fail-on-break"]].concat()).assert_code(1).stdout_has(&[
        "would break 2 (allowed now, denied then)",
        "Impacted  Tcp 198.18.0.1 -> 10.0.1.4:443 (1 flow)",
        "now:      Allow by web-nic-nsg securityRules/allow-https (priority 200)",
    ]);
    // The same scenario against itself changes nothing; a flow it cannot place is indeterminate.
    let same = nsgsim(&[
        "replay",
        &scenario(SCENARIO),
        &log,
        "--at",
        "0",
        "--against",
        &scenario(SCENARIO),
        "--fail-on-break",
        "--format",
        "json",
    ]);
    let same = same.assert_code(0).json();
    assert_eq!(same["impact"]["flows"]["Not impacted"], 4);
    let elsewhere = dir.write("elsewhere.ron", &current.replace("10.0.1.4", "10.0.1.40"));
    let json = nsgsim(&[
        "replay",
        &scenario(SCENARIO),
        &log,
        "--at",
        "0",
        "--against",
        &elsewhere,
        "--format",
        "json",
    ]);
    let json = json.assert_code(0).json();
    assert_eq!(json["impact"]["flows"]["Indeterminate"], 4);
    assert!(json["impact"]["paths"][0]["after"].is_null());
}
