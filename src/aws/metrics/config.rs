//! The `[[aws.metrics]]` entries of `config.toml`: full specs and presets
//! (`preset = "ecs_service" | "alb" | "rds"`), expanded and validated, with
//! mistakes reported by file, line and key.

use std::collections::HashMap;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::presets::{
    RDS_CONNECTIONS_CRITICAL, RDS_CONNECTIONS_WARNING, preset_alb, preset_ecs_service,
    preset_rds_with,
};
use super::spec::CloudWatchMetricSpec;
use crate::problem::Problem;
use crate::toml_doc::Doc;

/// A `preset = "ecs_service"` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EcsPreset {
    cluster: String,
    service: String,
}

/// A `preset = "alb"` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlbPreset {
    load_balancer: String,
    #[serde(default)]
    target_group: Option<String>,
}

/// A `preset = "rds"` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RdsPreset {
    db_instance: String,
    #[serde(default)]
    connections_warning: Option<f64>,
    #[serde(default)]
    connections_critical: Option<f64>,
}

const PRESETS: &str = "ecs_service, alb, rds";

/// Parse the `[[aws.metrics]]` entries of a `config.toml` text (nothing else
/// in the file is looked at). `file` is the name used in problems. Presets are
/// expanded; entries with mistakes are left out, the others kept.
pub fn parse_metric_specs(text: &str, file: &str) -> (Vec<CloudWatchMetricSpec>, Vec<Problem>) {
    let doc = Doc::new(text, file);
    let root = match doc.parse() {
        Ok(t) => t,
        Err(p) => return (Vec::new(), vec![p]),
    };
    let Some(aws) = root.get_ref().get("aws") else {
        return (Vec::new(), Vec::new());
    };
    let DeValue::Table(aws) = aws.get_ref() else {
        // What `aws` itself must be is reported where the rest of it is parsed.
        return (Vec::new(), Vec::new());
    };
    match aws.get("metrics") {
        Some(metrics) => metric_specs_from_toml(metrics, &doc, "aws.metrics"),
        None => (Vec::new(), Vec::new()),
    }
}

/// Parse an already-parsed `aws.metrics` value (an array of tables) of the
/// document; `key` is its dotted path in problems (`aws.metrics`).
pub fn metric_specs_from_toml<'i>(
    value: &Spanned<DeValue<'i>>,
    doc: &Doc<'i>,
    key: &str,
) -> (Vec<CloudWatchMetricSpec>, Vec<Problem>) {
    let mut specs: Vec<CloudWatchMetricSpec> = Vec::new();
    let mut problems = Vec::new();
    let DeValue::Array(items) = value.get_ref() else {
        problems.push(doc.wrong_type(key, &format!("an array of tables ([[{key}]])"), value));
        return (specs, problems);
    };
    // Where each key was first defined, for duplicate reports.
    let mut seen: HashMap<String, String> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("{key}[{i}]");
        let line = doc.line(item.span().start);
        let DeValue::Table(table) = item.get_ref() else {
            problems.push(doc.wrong_type(&path, "a table", item));
            continue;
        };
        let entry = Entry {
            doc,
            path: &path,
            line,
            table,
            span: item.span(),
        };
        let Some(expanded) = entry.specs(&mut problems) else {
            continue;
        };
        for mut spec in expanded {
            if spec.name.is_empty() {
                spec.name = spec.key.clone();
            }
            if let Some(first) = seen.get(&spec.key) {
                problems.push(Problem::new(
                    doc.file,
                    Some(entry.line_of_field("key")),
                    Some(path.clone()),
                    format!(
                        "duplicate metric key \"{}\" (first defined in {first})",
                        spec.key
                    ),
                ));
                continue;
            }
            seen.insert(spec.key.clone(), path.clone());
            specs.push(spec);
        }
    }
    (specs, problems)
}

/// One `[[aws.metrics]]` table being parsed.
struct Entry<'a, 'i> {
    doc: &'a Doc<'i>,
    path: &'a str,
    line: usize,
    table: &'a DeTable<'i>,
    span: std::ops::Range<usize>,
}

impl<'i> Entry<'_, 'i> {
    fn line_of_field(&self, field: &str) -> usize {
        self.table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == field)
            .map_or(self.line, |(k, _)| self.doc.line(k.span().start))
    }

    fn problem(&self, field: Option<&str>, message: impl Into<String>) -> Problem {
        let (line, key) = match field {
            Some(f) => (self.line_of_field(f), format!("{}.{f}", self.path)),
            None => (self.line, self.path.to_string()),
        };
        Problem::new(self.doc.file, Some(line), Some(key), message)
    }

    /// Deserialize the table (minus `skip`) as `T`, a problem on failure
    /// located at the field the error points into.
    fn deserialize<T: for<'de> Deserialize<'de>>(&self, skip: Option<&str>) -> Result<T, Problem> {
        let skip: Vec<&str> = skip.into_iter().collect();
        self.doc
            .deserialize(self.table, self.span.clone(), self.path, &skip)
    }

    /// `Some(())` when every field has a value; a problem for each empty one.
    fn filled(&self, problems: &mut Vec<Problem>, fields: &[(&str, &str)]) -> Option<()> {
        let before = problems.len();
        for (field, value) in fields {
            if value.trim().is_empty() {
                problems.push(self.problem(Some(field), "must not be empty"));
            }
        }
        (problems.len() == before).then_some(())
    }

    /// The specs of this entry (a preset expands to several), or `None` after
    /// pushing its problems.
    fn specs(&self, problems: &mut Vec<Problem>) -> Option<Vec<CloudWatchMetricSpec>> {
        let preset = self
            .table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == "preset")
            .map(|(_, v)| v.get_ref());
        let specs = match preset {
            None => {
                let spec: CloudWatchMetricSpec =
                    self.deserialize(None).map_err(|p| problems.push(p)).ok()?;
                let issues = spec.validate();
                if !issues.is_empty() {
                    for (field, message) in issues {
                        problems.push(self.problem(Some(field), message));
                    }
                    return None;
                }
                return Some(vec![spec]);
            }
            Some(DeValue::String(name)) => match name.as_ref() {
                "ecs_service" => {
                    let p: EcsPreset = self
                        .deserialize(Some("preset"))
                        .map_err(|p| problems.push(p))
                        .ok()?;
                    self.filled(
                        problems,
                        &[("cluster", &p.cluster), ("service", &p.service)],
                    )?;
                    preset_ecs_service(&p.cluster, &p.service)
                }
                "alb" => {
                    let p: AlbPreset = self
                        .deserialize(Some("preset"))
                        .map_err(|p| problems.push(p))
                        .ok()?;
                    let tg = p.target_group.as_deref();
                    let mut fields = vec![("load_balancer", p.load_balancer.as_str())];
                    fields.extend(tg.map(|tg| ("target_group", tg)));
                    self.filled(problems, &fields)?;
                    preset_alb(&p.load_balancer, tg)
                }
                "rds" => {
                    let p: RdsPreset = self
                        .deserialize(Some("preset"))
                        .map_err(|p| problems.push(p))
                        .ok()?;
                    self.filled(problems, &[("db_instance", &p.db_instance)])?;
                    let warning = p.connections_warning.unwrap_or(RDS_CONNECTIONS_WARNING);
                    let critical = p.connections_critical.unwrap_or(RDS_CONNECTIONS_CRITICAL);
                    if warning > critical {
                        problems.push(self.problem(
                            Some("connections_warning"),
                            format!(
                                "the warning ({warning}) must be at or below the critical ({critical})"
                            ),
                        ));
                        return None;
                    }
                    preset_rds_with(&p.db_instance, warning, critical)
                }
                other => {
                    problems.push(self.problem(
                        Some("preset"),
                        format!("unknown preset \"{other}\", expected one of {PRESETS}"),
                    ));
                    return None;
                }
            },
            Some(other) => {
                problems.push(self.problem(
                    Some("preset"),
                    format!("expected a string, found {}", other.type_str()),
                ));
                return None;
            }
        };
        // Presets are built from user values (names, thresholds): check them too.
        let mut ok = true;
        for spec in &specs {
            for (field, message) in spec.validate() {
                ok = false;
                problems.push(self.problem(None, format!("{}: {field}: {message}", spec.key)));
            }
        }
        ok.then_some(specs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::metrics::spec::Stat;

    const CONFIG: &str = r#"theme = "default"

[aws]
region = "eu-west-1"

[[aws.metrics]]
key = "checkout.cpu"
namespace = "AWS/ECS"
metric = "CPUUtilization"
dimensions = { ClusterName = "prod", ServiceName = "checkout" }
unit = "%"
warning = 70
critical = 90

[[aws.metrics]]
key = "api.latency"
name = "api p99"
namespace = "AWS/ApplicationELB"
metric = "TargetResponseTime"
stat = "p99"
period_secs = 300
scale = 1000
unit = "ms"

[[aws.metrics]]
preset = "ecs_service"
cluster = "prod"
service = "worker"

[[aws.metrics]]
preset = "alb"
load_balancer = "app/shop/50dc"

[[aws.metrics]]
preset = "rds"
db_instance = "orders-db"
connections_warning = 400
connections_critical = 450
"#;

    #[test]
    fn config_specs_and_presets_parse() {
        let (specs, problems) = parse_metric_specs(CONFIG, "config.toml");
        assert!(problems.is_empty(), "{problems:?}");
        let keys: Vec<&str> = specs.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "checkout.cpu",
                "api.latency",
                "worker.cpu",
                "worker.memory",
                "shop.latency_p95",
                "shop.5xx_count",
                "orders-db.connections",
                "orders-db.cpu",
                "orders-db.freeable_memory",
            ]
        );
        let cpu = &specs[0];
        assert_eq!(cpu.name, "checkout.cpu", "the name defaults to the key");
        assert_eq!(cpu.stat, Stat::Average);
        assert_eq!(cpu.period_secs, 60);
        assert_eq!((cpu.warning, cpu.critical), (Some(70.0), Some(90.0)));
        assert_eq!(cpu.dimensions.len(), 2);
        let lat = &specs[1];
        assert_eq!(lat.stat, Stat::Percentile(99.0));
        assert_eq!((lat.period_secs, lat.scale), (300, 1000.0));
        assert_eq!(specs[6].critical, Some(450.0));
        // Serde alone reads a full spec the same way.
        let direct: CloudWatchMetricSpec = toml::from_str(
            "key = \"checkout.cpu\"\nnamespace = \"AWS/ECS\"\nmetric = \"CPUUtilization\"\n\
             dimensions = { ClusterName = \"prod\", ServiceName = \"checkout\" }\n\
             unit = \"%\"\nwarning = 70\ncritical = 90\nname = \"checkout.cpu\"\n",
        )
        .unwrap();
        assert_eq!(&direct, cpu);
        assert!(parse_metric_specs("theme = \"x\"\n", "c.toml").0.is_empty());
    }

    fn problems_of(text: &str) -> Vec<String> {
        let (_, problems) = parse_metric_specs(text, "c.toml");
        problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn config_mistakes_have_file_line_and_key() {
        let text = r#"[[aws.metrics]]
key = "a"
namespace = "AWS/ECS"
metric = "CPUUtilization"
stat = "median"

[[aws.metrics]]
key = "b"
namespace = "AWS/ECS"
metrik = "CPUUtilization"

[[aws.metrics]]
key = "c"
metric = "CPUUtilization"

[[aws.metrics]]
key = "d"
namespace = "AWS/ECS"
metric = "CPUUtilization"
period_secs = 45
warning = 90
critical = 70

[[aws.metrics]]
preset = "lambda"

[[aws.metrics]]
preset = "rds"
db = "orders"

[[aws.metrics]]
key = "e"
namespace = "N"
metric = "M"

[[aws.metrics]]
key = "e"
namespace = "N"
metric = "M2"
"#;
        let got = problems_of(text);
        let want = [
            "c.toml:5: aws.metrics[0].stat: unknown statistic \"median\", expected Average, Sum, Minimum, Maximum, SampleCount or a percentile such as p95",
            "c.toml:10: aws.metrics[1].metrik: unknown field \"metrik\", expected one of",
            "c.toml:12: aws.metrics[2]: missing field \"namespace\"",
            "c.toml:20: aws.metrics[3].period_secs: 45 is not a CloudWatch period",
            "c.toml:21: aws.metrics[3].warning: the warning (90) must be at or below the critical (70)",
            "c.toml:25: aws.metrics[4].preset: unknown preset \"lambda\", expected one of ecs_service, alb, rds",
            "c.toml:29: aws.metrics[5].db: unknown field \"db\", expected",
            "c.toml:37: aws.metrics[7]: duplicate metric key \"e\" (first defined in aws.metrics[6])",
        ];
        assert_eq!(got.len(), want.len(), "{got:#?}");
        for (g, w) in got.iter().zip(want) {
            assert!(g.starts_with(w), "got  {g}\nwant {w}");
        }
        let (specs, _) = parse_metric_specs(text, "c.toml");
        let keys: Vec<&str> = specs.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["e"], "entries with mistakes are left out");
    }

    #[test]
    fn config_shape_mistakes() {
        assert_eq!(
            problems_of("[aws]\nmetrics = 3\n"),
            ["c.toml:2: aws.metrics: expected an array of tables ([[aws.metrics]]), found integer"]
        );
        assert_eq!(
            problems_of("[aws]\nmetrics = [1]\n"),
            ["c.toml:2: aws.metrics[0]: expected a table, found integer"]
        );
        assert_eq!(
            problems_of("[[aws.metrics]]\npreset = 1\n"),
            ["c.toml:2: aws.metrics[0].preset: expected a string, found integer"]
        );
        assert_eq!(
            problems_of(
                "[[aws.metrics]]\npreset = \"ecs_service\"\ncluster = \"prod\"\nservice = \"\"\n"
            ),
            ["c.toml:4: aws.metrics[0].service: must not be empty"]
        );
        assert_eq!(
            problems_of(
                "[[aws.metrics]]\npreset = \"rds\"\ndb_instance = \"orders-db\"\nconnections_warning = 500\n"
            ),
            [
                "c.toml:4: aws.metrics[0].connections_warning: the warning (500) must be at or below the critical (95)"
            ]
        );
        assert!(problems_of("[[aws.metrics]\n")[0].contains("TOML syntax error"));
    }
}
