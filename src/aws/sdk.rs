//! The AWS SDK configuration: profile, region and endpoint on top of the
//! default credential chain.

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Where and as whom to talk to AWS. Every field is optional: unset fields
/// come from the environment and the shared config files as the AWS CLI
/// reads them (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`, `~/.aws/config`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsOptions {
    /// A named profile from the shared config files.
    pub profile: Option<String>,
    /// The region, overriding the profile's and the environment's.
    pub region: Option<String>,
    /// An endpoint for every service (moto, LocalStack), overriding `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
}

/// Load the SDK configuration with the default credential chain
/// (environment, profiles, SSO, credential_process, container and instance
/// metadata). `AWS_ENDPOINT_URL` is honoured by the SDK itself; an explicit
/// [`AwsOptions::endpoint_url`] overrides it.
pub async fn sdk_config(opts: &AwsOptions) -> SdkConfig {
    // A hung endpoint fails an attempt instead of holding a pane for ever
    // (the SDK sets no read or attempt timeout by default).
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .read_timeout(std::time::Duration::from_secs(10))
        .operation_attempt_timeout(std::time::Duration::from_secs(12))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts);
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &opts.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}
