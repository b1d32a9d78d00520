//! The SAM template agrees with the code: every function crate has a function resource built by
//! cargo-lambda, every route the router serves is an API route with the right scopes (and nothing
//! else is), every environment variable the code reads is set, the schedules exist.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_norway::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("infra/template.yaml")).expect("infra/template.yaml");
    serde_norway::from_str(&text).expect("the template is plain YAML (long-form intrinsic functions only)")
}

/// (logical id, function resource) for every AWS::Serverless::Function.
fn functions(template: &Value) -> Vec<(String, Value)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(id, r)| (id.as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

fn binary(function: &Value) -> &str {
    function["Metadata"]["BuildProperties"]["Binary"].as_str().expect("Metadata.BuildProperties.Binary")
}

/// The deployed function crates: every folder under functions/ but the local runner.
fn function_crates() -> BTreeSet<String> {
    std::fs::read_dir(root().join("functions"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != "local")
        .collect()
}

#[test]
fn every_function_crate_is_a_function_built_by_cargo_lambda_for_arm64() {
    let template = template();
    let deployed: BTreeSet<String> = functions(&template).iter().map(|(_, f)| binary(f).to_owned()).collect();
    assert_eq!(deployed, function_crates(), "function resources and crates differ");
    for (id, function) in functions(&template) {
        assert_eq!(function["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"), "{id}");
        let properties = &function["Properties"];
        let globals = &template["Globals"]["Function"];
        let get = |key: &str| if properties[key].is_null() { globals[key].clone() } else { properties[key].clone() };
        assert_eq!(get("Runtime").as_str(), Some("provided.al2023"), "{id}");
        assert_eq!(get("Architectures")[0].as_str(), Some("arm64"), "{id}");
        let timeout = get("Timeout").as_u64().expect("a timeout");
        if binary(&function) == "zendesk-webhook" {
            assert!(timeout <= 10, "the webhook answers inside Zendesk's 12 s: {timeout}");
        }
    }
}

#[test]
fn every_route_is_an_api_route_with_its_scopes_and_nothing_else_is() {
    let template = template();
    let mut deployed = BTreeSet::new();
    for (id, function) in functions(&template) {
        let Some(events) = function["Properties"]["Events"].as_mapping() else { continue };
        for (_, event) in events {
            if event["Type"].as_str() != Some("HttpApi") {
                continue;
            }
            let properties = &event["Properties"];
            let method = properties["Method"].as_str().expect("Method").to_ascii_uppercase();
            let path = properties["Path"].as_str().expect("Path").to_owned();
            let route = handoff::api::ROUTES
                .iter()
                .find(|r| r.method == method && r.path == path)
                .unwrap_or_else(|| panic!("{id} serves {method} {path}, which the router does not"));
            assert_eq!(binary(&function), route.function, "{method} {path} is served by the wrong function");
            let auth = &properties["Auth"];
            match route.scope {
                Some(scope) => {
                    assert_eq!(auth["Authorizer"].as_str(), Some("JwtAuthorizer"), "{method} {path}");
                    let scopes: Vec<&str> = auth["AuthorizationScopes"]
                        .as_sequence()
                        .expect("scopes")
                        .iter()
                        .filter_map(|s| s.as_str())
                        .collect();
                    assert_eq!(scopes, [scope], "{method} {path}");
                }
                None => assert_eq!(auth["Authorizer"].as_str(), Some("NONE"), "{method} {path} takes no JWT"),
            }
            deployed.insert((method, path));
        }
    }
    let served: BTreeSet<(String, String)> =
        handoff::api::ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned())).collect();
    assert_eq!(deployed, served, "routes deployed and served differ");
}

/// Every `env::var("…")` / `env::var_os("…")` in the code the functions run.
fn variables_read() -> BTreeSet<String> {
    fn walk(dir: &Path, found: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()) {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for marker in ["env::var(\"", "env::var_os(\""] {
                    for part in text.split(marker).skip(1) {
                        if let Some(name) = part.split('"').next() {
                            found.insert(name.to_owned());
                        }
                    }
                }
            }
        }
    }
    let mut found = BTreeSet::new();
    walk(&root().join("shared/src"), &mut found);
    for name in function_crates() {
        walk(&root().join("functions").join(name).join("src"), &mut found);
    }
    found
}

#[test]
fn every_environment_variable_the_code_reads_is_set() {
    let template = template();
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    let read = variables_read();
    assert!(read.contains("HANDOFF_TABLE") && read.contains("RUST_LOG"), "the scan finds the variables: {read:?}");
    // Set by Lambda itself.
    let from_lambda = ["AWS_LAMBDA_FUNCTION_NAME"];
    for (id, function) in functions(&template) {
        let own = &function["Properties"]["Environment"]["Variables"];
        for name in read.iter().filter(|n| !from_lambda.contains(&n.as_str())) {
            assert!(!globals[name.as_str()].is_null() || !own[name.as_str()].is_null(), "{id} does not set {name}");
        }
    }
}

#[test]
fn the_scheduled_functions_have_their_schedules_and_dead_letter_queues() {
    let template = template();
    for (binary_name, rate) in [("token-refresh", "rate(5 minutes)"), ("sweeper", "rate(1 minute)")] {
        let (id, function) =
            functions(&template).into_iter().find(|(_, f)| binary(f) == binary_name).expect("a function");
        let schedule = function["Properties"]["Events"]
            .as_mapping()
            .and_then(|events| events.values().find(|e| e["Type"].as_str() == Some("ScheduleV2")))
            .unwrap_or_else(|| panic!("{id} has no ScheduleV2 event"));
        assert_eq!(schedule["Properties"]["ScheduleExpression"].as_str(), Some(rate), "{id}");
        assert!(!schedule["Properties"]["DeadLetterConfig"].is_null(), "{id} keeps failed invocations");
    }
    let table = &template["Resources"]["Table"]["Properties"];
    assert_eq!(table["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    assert_eq!(table["TimeToLiveSpecification"]["AttributeName"].as_str(), Some("expires_at"));
    assert_eq!(table["DeletionProtectionEnabled"].as_bool(), Some(true));
    let indexes: BTreeSet<&str> =
        table["GlobalSecondaryIndexes"].as_sequence().unwrap().iter().filter_map(|i| i["IndexName"].as_str()).collect();
    assert_eq!(indexes, BTreeSet::from([handoff::store::dynamodb::DUE_INDEX, handoff::store::dynamodb::TICKET_INDEX]));
    // As `DynamoStore::create_table` makes them: keys only, so no payload is copied to an index.
    for index in table["GlobalSecondaryIndexes"].as_sequence().unwrap().iter().filter(|i| !i["IndexName"].is_null()) {
        assert_eq!(index["Projection"]["ProjectionType"].as_str(), Some("KEYS_ONLY"), "{:?}", index["IndexName"]);
    }
    // The old all-attributes `due` index exists only while a stack is upgraded.
    let legacy = table["GlobalSecondaryIndexes"].as_sequence().unwrap().iter().find_map(|i| i["Fn::If"].as_sequence());
    let legacy = legacy.expect("the legacy due index behind KeepLegacyDueIndex");
    assert_eq!(legacy[0].as_str(), Some("KeepLegacyDueIndex"));
    assert_eq!(legacy[1]["IndexName"].as_str(), Some("due"));
    assert_eq!(legacy[2]["Ref"].as_str(), Some("AWS::NoValue"), "new stacks do without it");
    assert_eq!(template["Parameters"]["KeepLegacyDueIndex"]["Default"].as_str(), Some("false"));
}

/// The actions a function's role allows on resources matching `needle` (all when it is "").
fn role_actions(template: &Value, function_id: &str) -> Vec<(String, String)> {
    let role = &template["Resources"][format!("{function_id}Role").as_str()];
    let mut allowed = Vec::new();
    for policy in role["Properties"]["Policies"].as_sequence().into_iter().flatten() {
        for statement in policy["PolicyDocument"]["Statement"].as_sequence().into_iter().flatten() {
            if statement["Effect"].as_str() != Some("Allow") {
                continue;
            }
            let list = |v: &Value| -> Vec<String> {
                match v {
                    Value::String(s) => vec![s.clone()],
                    Value::Sequence(items) => items.iter().map(|i| serde_norway::to_string(i).unwrap()).collect(),
                    other => vec![serde_norway::to_string(other).unwrap()],
                }
            };
            for action in list(&statement["Action"]) {
                for resource in list(&statement["Resource"]) {
                    allowed.push((action.trim().to_owned(), resource));
                }
            }
        }
    }
    allowed
}

#[test]
fn roles_keep_the_hard_limits_and_api_functions_answer_within_api_gateways_timeout() {
    let template = template();
    let escalate = role_actions(&template, "EscalateFunction");
    assert!(!escalate.is_empty(), "the escalate function has a role with statements");
    assert!(
        !escalate.iter().any(|(a, _)| a == "secretsmanager:DeleteSecret" || a == "secretsmanager:*" || a == "*"),
        "the escalate function cannot delete secrets: {escalate:?}"
    );
    let webhook = role_actions(&template, "ZendeskWebhookFunction");
    assert!(!webhook.is_empty());
    assert!(
        !webhook.iter().any(|(a, r)| a.starts_with("secretsmanager:") && r.contains("app/zendesk-oauth")),
        "the webhook function cannot read the app's OAuth client secret: {webhook:?}"
    );
    assert!(webhook.iter().all(|(a, _)| a != "*" && a != "secretsmanager:*"));
    for (id, function) in functions(&template) {
        let is_api = function["Properties"]["Events"]
            .as_mapping()
            .is_some_and(|events| events.values().any(|e| e["Type"].as_str() == Some("HttpApi")));
        let timeout =
            function["Properties"]["Timeout"].as_u64().or(template["Globals"]["Function"]["Timeout"].as_u64());
        if is_api {
            assert!(timeout.is_some_and(|t| t <= 29), "{id}: API Gateway stops waiting after 30 s");
        }
    }
}

#[test]
fn the_alarms_watch_the_metrics_the_code_emits() {
    let template = template();
    let text = std::fs::read_to_string(root().join("infra/template.yaml")).unwrap();
    let code = [
        std::fs::read_to_string(root().join("shared/src/sweeper.rs")).unwrap(),
        std::fs::read_to_string(root().join("functions/token-refresh/src/main.rs")).unwrap(),
    ]
    .join("\n");
    let mut watched = 0;
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::CloudWatch::Alarm")
            || resource["Properties"]["Namespace"].as_str() != Some(handoff::metrics::NAMESPACE)
        {
            continue;
        }
        let metric = resource["Properties"]["MetricName"].as_str().expect("a metric name");
        assert!(code.contains(&format!("\"{metric}\"")), "no code emits {metric}");
        watched += 1;
    }
    assert!(watched >= 2, "refresh failures and the oldest pending escalation are watched");
    assert!(text.contains("HANDOFF_ZENDESK_BASE_URL: \"\"") || text.contains("HANDOFF_ZENDESK_BASE_URL: ''"));
}

#[test]
fn the_public_webhook_route_is_throttled_apart_from_the_chat_api() {
    let template = template();
    let api = &template["Resources"]["HttpApi"]["Properties"];
    let route = &api["RouteSettings"]["POST /webhooks/zendesk/{bot_id}"];
    assert_eq!(route["ThrottlingRateLimit"]["Ref"], "WebhookRateLimit", "{route:?}");
    assert_eq!(route["ThrottlingBurstLimit"]["Ref"], "WebhookBurstLimit", "{route:?}");
    for parameter in ["WebhookRateLimit", "WebhookBurstLimit"] {
        assert!(template["Parameters"][parameter]["Default"].as_u64().is_some_and(|n| n > 0), "{parameter}");
    }
    assert!(api["DefaultRouteSettings"]["ThrottlingRateLimit"].as_u64().is_some(), "the chat API keeps its own limit");
}

/// `*` and `?` as IAM matches them in a resource ARN.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.chars().next() {
        None => text.is_empty(),
        Some('*') => (0..=text.len()).filter(|&i| text.is_char_boundary(i)).any(|i| glob(&pattern[1..], &text[i..])),
        Some(c) => {
            let mut rest = text.chars();
            rest.next().is_some_and(|t| c == '?' || c == t) && glob(&pattern[c.len_utf8()..], rest.as_str())
        }
    }
}

/// What a function's role may do to each kind of secret: (kind, action) pairs, judged against a
/// real secret's ARN (Secrets Manager appends `-` and six characters to the name).
fn secret_access(template: &Value, function_id: &str) -> BTreeSet<(&'static str, &'static str)> {
    let arn = |name: &str| {
        format!(
            "arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:handoff/${{Stage}}/{name}-AbC123"
        )
    };
    let kinds = [
        ("credentials", arn("bots/shop-bot/zendesk")),
        ("webhook", arn("bots/shop-bot/webhook")),
        ("oauth-client", arn("app/zendesk-oauth")),
    ];
    let actions = [
        ("read", "GetSecretValue"),
        ("write", "PutSecretValue"),
        ("create", "CreateSecret"),
        ("delete", "DeleteSecret"),
    ];
    let allowed = role_actions(template, function_id);
    let mut access = BTreeSet::new();
    for (kind, secret) in &kinds {
        for (what, action) in actions {
            let granted = allowed.iter().any(|(a, r)| {
                let action_matches = a == "*" || a == "secretsmanager:*" || a == &format!("secretsmanager:{action}");
                let pattern = r.find("arn:").map(|i| r[i..].trim().trim_end_matches(['"', '\'', '}']).trim());
                let resource_matches = r.trim() == "*" || pattern.is_some_and(|p| glob(p, secret));
                action_matches && resource_matches
            });
            if granted {
                access.insert((*kind, what));
            }
        }
    }
    access
}

#[test]
fn each_role_reaches_only_the_secrets_its_function_uses() {
    let template = template();
    let creds_rw = [("credentials", "read"), ("credentials", "write"), ("oauth-client", "read")];
    let webhook_rwc = [("webhook", "read"), ("webhook", "write"), ("webhook", "create")];
    let expected: Vec<(&str, Vec<(&str, &str)>)> = vec![
        // Escalations and lookups refresh tokens; they never sign or verify anything.
        ("EscalateFunction", creds_rw.to_vec()),
        ("StatusFunction", creds_rw.to_vec()),
        ("TokenRefreshFunction", creds_rw.to_vec()),
        // Connect, reconnect, settings and disconnect own both secrets.
        (
            "ConnectionFunction",
            [
                &creds_rw[..],
                &webhook_rwc[..],
                &[("credentials", "create"), ("credentials", "delete"), ("webhook", "delete")],
            ]
            .concat(),
        ),
        ("OauthCallbackFunction", [&creds_rw[..], &webhook_rwc[..], &[("credentials", "create")]].concat()),
        // The health check repairs and moves; callbacks are signed from the webhook secret.
        ("SweeperFunction", [&creds_rw[..], &webhook_rwc[..]].concat()),
        // Reachable by anyone on the internet: the webhook secret, read only.
        ("ZendeskWebhookFunction", vec![("webhook", "read")]),
    ];
    for (function, access) in expected {
        let want: BTreeSet<(&str, &str)> = access.into_iter().collect();
        assert_eq!(secret_access(&template, function), want, "{function}'s secrets");
    }
    let webhook = secret_access(&template, "ZendeskWebhookFunction");
    assert!(
        !webhook.iter().any(|(kind, _)| *kind == "credentials"),
        "the webhook function cannot read a bot's Zendesk credentials: {webhook:?}"
    );
}
