//! The AWS SDK configuration shared by the ALB and CloudWatch sources, and
//! errors explained in the operator's terms.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::plan::AwsTarget;

/// One SDK configuration for the reading clients of a session. Calls give
/// up after 10 s; a throttled call is retried twice with backoff (ELBv2
/// Describe calls share one token bucket per account and region with every
/// other caller). Not the adaptive mode: its client-side rate limiter
/// waits out the whole deadline and then reports a timeout, where the
/// operator needs to read "throttled". A poller that comes round again in
/// seconds, with its own doubling pause, is better served by failing then
/// and saying so. The executor builds its own clients from this with more
/// patience (`effects::elb_client`).
pub async fn sdk_config(target: &AwsTarget) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(target.region.clone()))
        .retry_config(RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(500)))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_timeout(Duration::from_secs(10))
                .build(),
        );
    if let Some(profile) = &target.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &target.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// The words an error of a throttled call carries, for the screen to say
/// "throttled, retrying" rather than just stale.
pub const THROTTLED: &str = "throttled by AWS";

/// What went wrong with an AWS call, and what to check, scrubbed of
/// secrets. `permission` is the IAM action the call needs, named when
/// access is denied.
pub fn explain<E, R>(err: &aws_smithy_runtime_api::client::result::SdkError<E, R>, permission: &str) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    let text = match err {
        SdkError::ServiceError(e) => {
            let inner = e.err();
            let code = inner.code().unwrap_or("error");
            let message = inner.message().unwrap_or("");
            match code {
                "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
                    format!("access denied: the AWS identity needs {permission} ({message})")
                }
                "InvalidClientTokenId" | "ExpiredToken" | "ExpiredTokenException" | "UnrecognizedClientException" => {
                    format!("AWS credentials refused ({code}): renew them or check the profile")
                }
                "Throttling" | "ThrottlingException" | "RequestLimitExceeded" => {
                    format!("{THROTTLED} ({code}: {message}); retrying with backoff")
                }
                _ => format!("{code}: {message}"),
            }
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            format!("cannot reach the AWS endpoint: {}", DisplayErrorContext(err))
        }
        other => format!("{}", DisplayErrorContext(other)),
    };
    // A message or a failed credential process may quote what it was given.
    crate::scrub::scrub(&text).into_owned()
}
