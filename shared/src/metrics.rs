//! CloudWatch metrics without an API call: one line of Embedded Metric Format on stdout, which
//! Lambda's log pipeline turns into a metric. Namespace `Handoff`.

use serde_json::json;

pub const NAMESPACE: &str = "Handoff";

/// The EMF line for `value` of `metric` (in `unit`: `Count`, `Seconds`, …) at `timestamp_ms`,
/// with one dimension.
pub fn emf_line(metric: &str, value: u64, unit: &str, dimension: (&str, &str), timestamp_ms: i64) -> String {
    let (dim_name, dim_value) = dimension;
    let mut line = json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[dim_name]],
                "Metrics": [{"Name": metric, "Unit": unit}],
            }],
        },
        metric: value,
    });
    line[dim_name] = json!(dim_value);
    line.to_string()
}

/// Emits one data point on stdout, in Lambda only (elsewhere the logs say the same).
pub fn emit(metric: &str, value: u64, unit: &str, dimension: (&str, &str)) {
    static IN_LAMBDA: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if !*IN_LAMBDA.get_or_init(|| std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()) {
        return;
    }
    let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    println!("{}", emf_line(metric, value, unit, dimension, now));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_embedded_metric_format() {
        let line: serde_json::Value =
            serde_json::from_str(&emf_line("CallbackFailed", 2, "Count", ("Function", "sweeper"), 1_700_000_000_000))
                .unwrap();
        assert_eq!(line["CallbackFailed"], 2);
        assert_eq!(line["Function"], "sweeper");
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Handoff");
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0], "Function");
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], "CallbackFailed");
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"], "Count");
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_000_i64);
    }
}
