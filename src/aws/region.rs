//! AWS region names, checked before anything is sent: a mistyped region
//! otherwise shows up as DNS failures against a host that cannot exist.
//!
//! The SDK does not expose its partition data, so the regions are written
//! here as data, per partition (as of 2025). With an endpoint override
//! (`AWS_ENDPOINT_URL`, moto, LocalStack) any name of the right shape is
//! accepted, since such servers take any region.

/// Each partition's name, DNS suffix and regions.
pub const PARTITIONS: &[(&str, &str, &[&str])] = &[
    (
        "aws",
        "amazonaws.com",
        &[
            "af-south-1",
            "ap-east-1",
            "ap-east-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-6",
            "ap-southeast-7",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "il-central-1",
            "me-central-1",
            "me-south-1",
            "mx-central-1",
            "sa-east-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ],
    ),
    (
        "aws-cn",
        "amazonaws.com.cn",
        &["cn-north-1", "cn-northwest-1"],
    ),
    (
        "aws-us-gov",
        "amazonaws.com",
        &["us-gov-east-1", "us-gov-west-1"],
    ),
    ("aws-iso", "c2s.ic.gov", &["us-iso-east-1", "us-iso-west-1"]),
    ("aws-iso-b", "sc2s.sgov.gov", &["us-isob-east-1"]),
    ("aws-iso-e", "cloud.adc-e.uk", &["eu-isoe-west-1"]),
    (
        "aws-iso-f",
        "csp.hci.ic.gov",
        &["us-isof-east-1", "us-isof-south-1"],
    ),
    ("aws-eusc", "amazonaws.eu", &["eusc-de-east-1"]),
];

/// Whether `name` has the shape of a region name: lowercase words joined
/// by `-`, the last one a number (`us-east-1`, `us-gov-west-1`).
pub fn well_formed(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    let Some((last, words)) = parts.split_last() else {
        return false;
    };
    parts.len() >= 3
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
}

/// The partition of a known region.
pub fn partition(name: &str) -> Option<&'static str> {
    PARTITIONS
        .iter()
        .find(|(_, _, regions)| regions.contains(&name))
        .map(|(p, _, _)| *p)
}

/// Check the region the session will use. `endpoint_override`: requests go
/// to an endpoint of the user's (any well-formed name is accepted).
pub fn check(name: &str, endpoint_override: bool) -> Result<(), String> {
    let fix = "pass --region (e.g. --region eu-west-1), set AWS_REGION, \
               or set region in the profile (~/.aws/config) or in [aws] of config.toml";
    if !well_formed(name) {
        return Err(format!(
            "\"{name}\" is not an AWS region name (like us-east-1): {fix}"
        ));
    }
    if endpoint_override || partition(name).is_some() {
        return Ok(());
    }
    let near: Vec<&str> = PARTITIONS
        .iter()
        .flat_map(|(_, _, r)| r.iter().copied())
        .filter(|r| r.split('-').next() == name.split('-').next())
        .collect();
    let known = if near.is_empty() {
        "us-east-1, eu-west-1, ap-southeast-1, ...".to_string()
    } else {
        near.join(", ")
    };
    Err(format!(
        "\"{name}\" is not a known AWS region (known: {known}): {fix}; \
         with an endpoint of your own (AWS_ENDPOINT_URL) any region name is accepted"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_regions_of_every_partition_pass() {
        for r in [
            "us-east-1",
            "eu-west-3",
            "cn-north-1",
            "us-gov-west-1",
            "us-isob-east-1",
        ] {
            assert_eq!(check(r, false), Ok(()), "{r}");
        }
        assert_eq!(partition("cn-northwest-1"), Some("aws-cn"));
        assert_eq!(partition("us-gov-east-1"), Some("aws-us-gov"));
    }

    #[test]
    fn a_made_up_region_is_refused_with_the_fix() {
        let e = check("xx-fake-9", false).unwrap_err();
        assert!(
            e.starts_with("\"xx-fake-9\" is not a known AWS region"),
            "{e}"
        );
        assert!(e.contains("--region") && e.contains("AWS_REGION"), "{e}");
        let e = check("eu-wst-1", false).unwrap_err();
        assert!(e.contains("known: eu-central-1"), "{e}");
    }

    #[test]
    fn a_malformed_name_is_refused_even_with_an_endpoint() {
        for bad in [
            "",
            "useast1",
            "us-east",
            "US-EAST-1",
            "us-east-1a",
            "us--1",
            "-east-1",
        ] {
            assert!(!well_formed(bad), "{bad}");
            let e = check(bad, true).unwrap_err();
            assert!(e.contains("is not an AWS region name"), "{e}");
        }
    }

    #[test]
    fn with_an_endpoint_any_well_formed_name_passes() {
        assert_eq!(check("xx-fake-9", true), Ok(()));
        assert!(check("xx-fake-9", false).is_err());
    }
}
