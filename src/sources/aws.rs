//! The AWS SDK configuration shared by the ALB and CloudWatch sources, and
//! its errors said in one line an operator can act on.
//!
//! The SDK's own text for a failed call runs to a kilobyte over several
//! lines (every credential provider it tried, then the whole error in
//! Debug form). [`explain`] sorts an error into the few cases that call for
//! different actions ([`Problem`]) and says that; the raw text goes to the
//! log, scrubbed. A failed connection is sorted and said by
//! [`fault::connect`], as a Kubernetes call's is, and each problem has the
//! [`Fault`] code decides on.

use super::health::Failure;
use std::sync::RwLock;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::plan::AwsTarget;
use crate::scrub::scrub;
use crate::sources::fault::{self, Fault, chain_text, find, innermost};

/// Where the session's AWS calls go, for naming the host a call could not
/// reach and the profile whose credentials are missing. A session has one
/// AWS target, set by [`sdk_config`]; an SDK error does not carry the URL
/// it was sent to.
static TARGET: RwLock<Option<Target>> = RwLock::new(None);

#[derive(Debug, Clone, Default)]
struct Target {
    region: String,
    endpoint_url: Option<String>,
    profile: Option<String>,
}

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
    if let Ok(mut t) = TARGET.write() {
        *t = Some(Target {
            region: target.region.clone(),
            endpoint_url: target.endpoint_url.clone(),
            profile: target.profile.clone(),
        });
    }
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

/// The Route 53 client of a session. Route 53 is a global service: the
/// SDK sends it to its one endpoint (signed for us-east-1) whatever the
/// plan's region, or to the plan's `endpoint_url`. Its API allows five
/// requests per second per account, shared with every other caller
/// (ExternalDNS polls it): reads are retried on throttling as the other
/// clients' are (three attempts); the executor's write makes its own
/// attempts (`effects::route53`).
pub fn route53_client(sdk: &SdkConfig) -> aws_sdk_route53::Client {
    aws_sdk_route53::Client::new(sdk)
}

/// The words an error of a throttled call carries, for the screen to say
/// "throttled, retrying" rather than just stale.
pub const THROTTLED: &str = "throttled by AWS";

/// What went wrong with an AWS call, sorted by what the operator does
/// about it. Its `Display` is the one line the operator reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// No provider of the default chain had credentials.
    #[error(
        "no AWS credentials found (tried env vars, profile `{profile}`, SSO, web identity, ECS, {}): \
         set AWS_PROFILE or the plan's [aws] profile",
        if imds_disabled() { "IMDS off" } else { "IMDS" }
    )]
    NoCredentials { profile: String },
    /// The profile's SSO session has expired, or was `never` started.
    #[error(
        "the AWS SSO session of profile `{profile}` {}: run `aws sso login --profile {profile}`",
        if *never { "was never started here (no cached SSO token)" } else { "has expired" }
    )]
    SsoExpired { profile: String, never: bool },
    /// The credentials could not be had for another reason: a profile that
    /// is not defined, a failed `credential_process`, an IMDS timeout.
    #[error("cannot get AWS credentials for profile `{profile}`: {why}")]
    CredentialsFailed { profile: String, why: String },
    /// Credentials were sent and refused (`code` says how).
    #[error("{}", refused_credentials(code))]
    BadCredentials { code: String },
    /// The identity may not make this call. `identity` and `resource` come
    /// from AWS's message when it has them.
    #[error("{}", access_denied(action, resource.as_deref(), identity.as_deref(), why.as_deref()))]
    AccessDenied { action: String, resource: Option<String>, identity: Option<String>, why: Option<String> },
    #[error("{THROTTLED} ({code}: {message}) on {action}; retrying with backoff")]
    Throttled { code: String, message: String, action: String },
    /// No connection to the endpoint (refused, DNS, TLS).
    #[error("cannot reach the AWS endpoint {host}: {why}")]
    Unreachable { host: String, why: String },
    /// Connected, or tried to, and no answer in time.
    #[error("no answer from the AWS endpoint {host} in time (10 s)")]
    TimedOut { host: String },
    /// An answer that is not an AWS API's: a proxy's page, a wrong URL.
    #[error(
        "the answer from {host} is not an AWS API's{}: check the plan's [aws] endpoint_url and any proxy",
        status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
    )]
    BadAnswer { host: String, status: Option<u16> },
    /// AWS answered with an error of the call itself (`RuleNotFound`...).
    #[error("{code}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Service { code: String, message: String },
    #[error("{0}")]
    Other(String),
}

impl Problem {
    /// Whether every call of the session fails the same way: the
    /// credentials, not the call.
    pub fn affects_every_call(&self) -> bool {
        self.fault() == Fault::Credentials
    }

    /// The kind of failure, in the words the Kubernetes side uses too.
    pub fn fault(&self) -> Fault {
        match self {
            Problem::NoCredentials { .. }
            | Problem::SsoExpired { .. }
            | Problem::CredentialsFailed { .. }
            | Problem::BadCredentials { .. } => Fault::Credentials,
            Problem::AccessDenied { .. } => Fault::Denied,
            Problem::Throttled { .. } => Fault::Throttled,
            Problem::Unreachable { .. } => Fault::Unreachable,
            Problem::TimedOut { .. } => Fault::Timeout,
            Problem::Service { code, .. } if code.ends_with("NotFound") || code.starts_with("NoSuch") => {
                Fault::NotFound
            }
            Problem::BadAnswer { .. } | Problem::Service { .. } | Problem::Other(_) => Fault::Other,
        }
    }
}

/// Credentials AWS refused, by what to check for the code it answered.
fn refused_credentials(code: &str) -> String {
    match code {
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "TokenRefreshRequired" => format!(
            "the AWS credentials have expired ({code}): renew them (`aws sso login`, or new keys for the profile)"
        ),
        "SignatureDoesNotMatch" | "IncompleteSignature" => format!(
            "AWS refused the request signature ({code}): check the secret key belongs to the access key id, \
             and the clock"
        ),
        _ => format!(
            "AWS does not know these credentials ({code}): check AWS_ACCESS_KEY_ID or the profile's keys, \
             and that they are for this partition"
        ),
    }
}

/// Access denied, with the resource, who, and why when AWS said them.
fn access_denied(action: &str, resource: Option<&str>, identity: Option<&str>, why: Option<&str>) -> String {
    let mut text = format!("access denied: the AWS identity needs {action}");
    if let Some(r) = resource {
        text.push_str(&format!(" on {r}"));
    }
    // Who is denied, when it fits: `check` and the console's
    // header name the identity anyway; the reason always.
    let who = identity.filter(|w| text.len() + w.len() < 150);
    match (who, why) {
        (Some(who), Some(why)) => text.push_str(&format!(" ({who}; {why})")),
        (Some(who), None) => text.push_str(&format!(" ({who})")),
        (None, Some(why)) => text.push_str(&format!(" ({why})")),
        (None, None) => {}
    }
    text
}

/// The error codes AWS throttles a call with. PriorRequestNotComplete:
/// Route 53 is still applying an earlier change of the same records; it
/// asks the caller to wait and retry.
pub fn is_throttling(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "PriorRequestNotComplete"
    )
}

/// What went wrong with an AWS call, in one line, scrubbed of secrets.
/// `action` is the IAM action of the call (`elasticloadbalancing:DescribeRules`),
/// named when access is denied. The SDK's whole error goes to the log.
pub fn explain<E>(err: &SdkError<E, HttpResponse>, action: &str) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    explain_on(err, action, None)
}

/// [`explain`] for a call on one resource, named when access is denied and
/// AWS's message does not say.
pub fn explain_on<E>(err: &SdkError<E, HttpResponse>, action: &str, resource: Option<&str>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    scrub(&problem(err, action, resource).to_string()).into_owned()
}

/// [`explain_on`] with what kind of trouble it is, for a source's health.
pub fn failure_on<E>(err: &SdkError<E, HttpResponse>, action: &str, resource: Option<&str>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let problem = problem(err, action, resource);
    Failure::new(scrub(&problem.to_string()).into_owned(), problem.fault())
}

/// [`failure_on`] for a call on no one resource.
pub fn failure<E>(err: &SdkError<E, HttpResponse>, action: &str) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    failure_on(err, action, None)
}

/// [`classify`], with the SDK's whole error written to the log.
pub fn problem<E>(err: &SdkError<E, HttpResponse>, action: &str, resource: Option<&str>) -> Problem
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    tracing::warn!(action, error = %scrub(&DisplayErrorContext(err).to_string()), "AWS call failed");
    classify(err, action, resource)
}

/// Sorts an SDK error of any operation into a [`Problem`].
pub fn classify<E>(err: &SdkError<E, HttpResponse>, action: &str, resource: Option<&str>) -> Problem
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let target = TARGET.read().ok().and_then(|t| t.clone()).unwrap_or_default();
    let profile = target
        .profile
        .clone()
        .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()))
        .unwrap_or_else(|| "default".into());
    let host = || endpoint_host(&target, action);
    match err {
        SdkError::ServiceError(e) => {
            let inner = e.err();
            service_problem(inner.code().unwrap_or(""), inner.message().unwrap_or(""), action, resource, &host)
        }
        SdkError::ResponseError(e) => {
            // Some answers carry an AWS error the SDK could not tie to the
            // operation: its code still says the most.
            let status = e.raw().status().as_u16();
            Problem::BadAnswer { host: host(), status: Some(status) }
        }
        SdkError::TimeoutError(_) => Problem::TimedOut { host: host() },
        SdkError::DispatchFailure(d) => {
            if let Some(c) = find::<CredentialsError>(err) {
                return credentials_problem(c, err, profile);
            }
            if d.is_timeout() {
                return Problem::TimedOut { host: host() };
            }
            Problem::Unreachable { host: host(), why: fault::connect(err).to_string() }
        }
        SdkError::ConstructionFailure(_) => match find::<CredentialsError>(err) {
            Some(c) => credentials_problem(c, err, profile),
            None => Problem::Other(format!("the request could not be built: {}", innermost(err))),
        },
        _ => Problem::Other(short(&innermost(err), 160)),
    }
}

fn service_problem(
    code: &str,
    message: &str,
    action: &str,
    resource: Option<&str>,
    host: &dyn Fn() -> String,
) -> Problem {
    match code {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "UnauthorizedAccess" => {
            let said = parse_access_denied(message);
            Problem::AccessDenied {
                action: said.action.unwrap_or_else(|| action.to_string()),
                resource: said.resource.or_else(|| resource.map(short_arn)),
                identity: said.identity,
                why: said.why,
            }
        }
        "ExpiredToken"
        | "ExpiredTokenException"
        | "RequestExpired"
        | "TokenRefreshRequired"
        | "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature"
        | "InvalidAccessKeyId"
        | "AuthFailure" => Problem::BadCredentials { code: code.to_string() },
        _ if is_throttling(code) => {
            Problem::Throttled { code: code.to_string(), message: short(message, 80), action: action.to_string() }
        }
        "" => Problem::BadAnswer { host: host(), status: None },
        _ => Problem::Service { code: code.to_string(), message: short(message, 160) },
    }
}

#[derive(Default)]
struct Denied {
    identity: Option<String>,
    action: Option<String>,
    resource: Option<String>,
    why: Option<String>,
}

/// The parts of AWS's AccessDenied message: "User: ARN is not authorized
/// to perform: ACTION on resource: ARN because no identity-based policy
/// allows the ACTION action" (the resource and the reason are optional).
fn parse_access_denied(message: &str) -> Denied {
    let after = |key: &str| message.split_once(key).map(|(_, rest)| rest);
    let word = |s: &str| s.split_whitespace().next().map(|w| w.trim_end_matches([',', '.']).to_string());
    let identity =
        after("User: ").and_then(|rest| rest.split_once(" is not authorized").map(|(who, _)| short_identity(who)));
    let action = after("to perform: ").and_then(word).filter(|a| a.contains(':'));
    let resource = after("on resource: ").and_then(word).map(|r| short_arn(&r));
    let why = after(" with an explicit deny in ")
        .map(|rest| format!("explicit deny in {}", rest.trim_end_matches('.')))
        .or_else(|| after(" because ").map(|rest| rest.trim_end_matches('.').to_string()))
        // "no identity-based policy allows the X action" is what "needs X"
        // says already; an explicit deny, a boundary or an SCP is news.
        .filter(|w| !w.starts_with("no identity-based policy allows"))
        .map(|w| short(&w, 70));
    Denied { identity, action, resource, why }
}

/// `arn:aws:sts::123456789012:assumed-role/Deployer/alice` as
/// `assumed-role/Deployer/alice`: the account is the plan's.
fn short_identity(arn: &str) -> String {
    arn.splitn(6, ':').nth(5).unwrap_or(arn).to_string()
}

/// An ARN as its resource part, which names it within the plan's account
/// and region (`listener-rule/app/photo-api/…/9683b2d02a6cabee`).
fn short_arn(arn: &str) -> String {
    match arn.splitn(6, ':').nth(5) {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => arn.to_string(),
    }
}

fn credentials_problem(c: &CredentialsError, err: &(dyn std::error::Error + 'static), profile: String) -> Problem {
    let chain = chain_text(err);
    if chain.contains("failed to load the cached SSO token") || chain.contains("SSO token cache") {
        return Problem::SsoExpired { profile, never: true };
    }
    let sso = chain.contains("SSO")
        && (chain.contains("expired")
            || chain.contains("Session token not found or invalid")
            || chain.contains("UnauthorizedException"));
    if sso {
        return Problem::SsoExpired { profile, never: false };
    }
    match c {
        CredentialsError::CredentialsNotLoaded(_) => Problem::NoCredentials { profile },
        CredentialsError::ProviderTimedOut(t) => Problem::CredentialsFailed {
            profile,
            why: format!(
                "the provider did not answer within {} s (IMDS or SSO out of reach?)",
                t.timeout_duration().as_secs()
            ),
        },
        _ => Problem::CredentialsFailed { profile, why: short(&innermost(err), 120) },
    }
}

/// The host (and port) a call of `action` is sent to.
fn endpoint_host(target: &Target, action: &str) -> String {
    if let Some(url) = &target.endpoint_url {
        let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
        return rest.split('/').next().unwrap_or(rest).to_string();
    }
    let service = match action.split(':').next().unwrap_or("") {
        "cloudwatch" => "monitoring",
        "" => "sts",
        s => s,
    };
    let region = if target.region.is_empty() { "us-east-1" } else { &target.region };
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("{service}.{region}.{suffix}")
}

fn imds_disabled() -> bool {
    std::env::var("AWS_EC2_METADATA_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

/// At most `max` characters, cut at a character boundary with an ellipsis.
fn short(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    type Error = SdkError<GetCallerIdentityError, HttpResponse>;

    fn response(status: u16) -> HttpResponse {
        HttpResponse::new(status.try_into().unwrap_or_else(|_| unreachable!()), SdkBody::empty())
    }

    fn service(status: u16, code: &str, message: &str) -> Error {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        SdkError::service_error(GetCallerIdentityError::generic(meta), response(status))
    }

    fn credentials(e: CredentialsError) -> Error {
        SdkError::dispatch_failure(ConnectorError::other(Box::new(e), None))
    }

    fn io(kind: std::io::ErrorKind) -> Error {
        SdkError::dispatch_failure(ConnectorError::io(Box::new(std::io::Error::from(kind))))
    }

    const DENIED: &str = "User: arn:aws:sts::123456789012:assumed-role/Deployer/alice is not authorized to perform: \
        elasticloadbalancing:ModifyRule on resource: arn:aws:elasticloadbalancing:eu-west-1:123456789012:\
        listener-rule/app/photo/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee because no identity-based \
        policy allows the elasticloadbalancing:ModifyRule action";

    fn one_line(text: &str) {
        assert!(!text.contains('\n'), "one line: {text}");
        assert!(text.chars().count() <= 180, "{} characters: {text}", text.chars().count());
        for raw in ["DispatchFailure", "ConnectorError", "ProviderChainError", "SdkBody"] {
            assert!(!text.contains(raw), "no SDK dump: {text}");
        }
    }

    #[test]
    fn an_empty_credentials_chain_is_no_credentials_with_where_it_looked() {
        let chain = "no credentials found in chain. Attempted:\n  Environment: ...\n  Profile: ...";
        let err = credentials(CredentialsError::not_loaded(chain));
        let problem = classify(&err, "sts:GetCallerIdentity", None);
        assert!(matches!(problem, Problem::NoCredentials { .. }), "{problem:?}");
        assert!(problem.affects_every_call());
        let text = explain(&err, "sts:GetCallerIdentity");
        one_line(&text);
        assert!(text.starts_with("no AWS credentials found (tried env vars, profile `"), "{text}");
        assert!(text.contains("SSO") && text.contains("IMDS") && text.contains("AWS_PROFILE"), "{text}");
    }

    #[test]
    fn an_expired_or_missing_sso_login_says_which_login_to_run() {
        let expired =
            credentials(CredentialsError::provider_error("the SSO token has expired and cannot be refreshed"));
        let missing = credentials(CredentialsError::provider_error("failed to load the cached SSO token"));
        let (a, b) = (classify(&expired, "sts:GetCallerIdentity", None), classify(&missing, "x:Y", None));
        let profile = match &a {
            Problem::SsoExpired { profile, never: false } => profile.clone(),
            other => panic!("{other:?}"),
        };
        assert!(matches!(b, Problem::SsoExpired { never: true, .. }), "{b:?}");
        let text = a.to_string();
        one_line(&text);
        assert!(text.ends_with(&format!("run `aws sso login --profile {profile}`")), "{text}");
        assert!(b.to_string().contains("never started"), "{b}");
    }

    #[test]
    fn other_credential_failures_say_the_providers_reason() {
        let err = credentials(CredentialsError::provider_timed_out(Duration::from_secs(5)));
        let text = explain(&err, "sts:GetCallerIdentity");
        one_line(&text);
        assert!(text.contains("cannot get AWS credentials for profile") && text.contains("within 5 s"), "{text}");
        let err = credentials(CredentialsError::invalid_configuration("profile `prod` was not defined"));
        let text = explain(&err, "sts:GetCallerIdentity");
        assert!(text.ends_with("profile `prod` was not defined"), "{text}");
    }

    #[test]
    fn access_denied_names_the_action_the_resource_and_who() {
        let err = service(403, "AccessDenied", DENIED);
        let problem = classify(&err, "elasticloadbalancing:ModifyRule", None);
        assert_eq!(
            problem,
            Problem::AccessDenied {
                action: "elasticloadbalancing:ModifyRule".into(),
                resource: Some("listener-rule/app/photo/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee".into()),
                identity: Some("assumed-role/Deployer/alice".into()),
                why: None,
            }
        );
        assert!(!problem.affects_every_call());
        let text = explain(&err, "elasticloadbalancing:ModifyRule");
        one_line(&text);
        assert!(
            text.starts_with("access denied: the AWS identity needs elasticloadbalancing:ModifyRule on listener-rule/")
        );

        // A bare message: the action from the call, the resource given.
        let err = service(403, "AccessDenied", "Access Denied");
        let arn = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/api-old/73e2d6bc24d8a067";
        let text = explain_on(&err, "elasticloadbalancing:DescribeTargetHealth", Some(arn));
        assert_eq!(
            text,
            "access denied: the AWS identity needs elasticloadbalancing:DescribeTargetHealth on targetgroup/api-old/73e2d6bc24d8a067"
        );

        let scp = "User: arn:aws:iam::1:user/bob is not authorized to perform: sts:GetCallerIdentity with an explicit deny in a service control policy";
        let text = explain(&service(403, "AccessDenied", scp), "sts:GetCallerIdentity");
        assert_eq!(
            text,
            "access denied: the AWS identity needs sts:GetCallerIdentity (user/bob; explicit deny in a service control policy)"
        );
    }

    #[test]
    fn refused_credentials_say_what_to_check() {
        for (code, says) in [
            ("ExpiredToken", "have expired"),
            ("InvalidClientTokenId", "AWS_ACCESS_KEY_ID"),
            ("SignatureDoesNotMatch", "secret key"),
        ] {
            let err = service(403, code, "The security token included in the request is invalid.");
            let problem = classify(&err, "sts:GetCallerIdentity", None);
            assert_eq!(problem, Problem::BadCredentials { code: code.into() });
            assert!(problem.affects_every_call());
            let text = explain(&err, "sts:GetCallerIdentity");
            one_line(&text);
            assert!(text.contains(says) && text.contains(code), "{code}: {text}");
        }
    }

    #[test]
    fn throttling_keeps_the_words_the_screen_looks_for() {
        let err = service(400, "Throttling", "Rate exceeded");
        let text = explain(&err, "elasticloadbalancing:DescribeTargetHealth");
        one_line(&text);
        assert!(text.starts_with("throttled by AWS (Throttling: Rate exceeded) on elasticloadbalancing:"), "{text}");
        assert!(text.contains(THROTTLED));
    }

    #[test]
    fn unreachable_and_timed_out_endpoints_name_the_host() {
        let target = Target { region: "eu-west-1".into(), endpoint_url: None, profile: None };
        assert_eq!(endpoint_host(&target, "cloudwatch:GetMetricData"), "monitoring.eu-west-1.amazonaws.com");
        assert_eq!(endpoint_host(&target, "sts:GetCallerIdentity"), "sts.eu-west-1.amazonaws.com");
        let local = Target { endpoint_url: Some("http://127.0.0.1:4566/".into()), ..target.clone() };
        assert_eq!(endpoint_host(&local, "elasticloadbalancing:DescribeRules"), "127.0.0.1:4566");
        let cn = Target { region: "cn-north-1".into(), ..target };
        assert_eq!(endpoint_host(&cn, "sts:GetCallerIdentity"), "sts.cn-north-1.amazonaws.com.cn");

        let refused = classify(&io(std::io::ErrorKind::ConnectionRefused), "elasticloadbalancing:DescribeRules", None);
        let Problem::Unreachable { host, why } = &refused else { panic!("{refused:?}") };
        assert!(host.contains("elasticloadbalancing.") || host.contains(':'), "{host}");
        assert_eq!(why, "connection refused (nothing listens there)");
        let text = refused.to_string();
        one_line(&text);
        assert!(text.starts_with(&format!("cannot reach the AWS endpoint {host}: connection refused")), "{text}");

        let timeout: Error = SdkError::timeout_error("operation timeout (all attempts including retries) occurred");
        let problem = classify(&timeout, "sts:GetCallerIdentity", None);
        assert!(matches!(&problem, Problem::TimedOut { host } if !host.is_empty()), "{problem:?}");
        let connect: Error = SdkError::dispatch_failure(ConnectorError::timeout("connect timed out".into()));
        assert!(matches!(classify(&connect, "sts:GetCallerIdentity", None), Problem::TimedOut { .. }));
    }

    /// The kind of failure, as the Kubernetes side sorts its own: what
    /// code decides on, whatever the text.
    #[test]
    fn each_problem_has_the_fault_the_kubernetes_side_would_say() {
        let fault = |err: &Error| classify(err, "route53:ChangeResourceRecordSets", None).fault();
        assert_eq!(fault(&service(400, "Throttling", "Rate exceeded")), Fault::Throttled);
        assert_eq!(fault(&service(400, "PriorRequestNotComplete", "")), Fault::Throttled);
        assert_eq!(fault(&service(403, "AccessDenied", DENIED)), Fault::Denied);
        assert_eq!(fault(&service(403, "ExpiredToken", "")), Fault::Credentials);
        assert_eq!(fault(&io(std::io::ErrorKind::ConnectionRefused)), Fault::Unreachable);
        assert_eq!(fault(&SdkError::timeout_error("late")), Fault::Timeout);
        assert_eq!(fault(&service(400, "InvalidChangeBatch", "not known")), Fault::Other);
        for code in ["Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"] {
            assert!(is_throttling(code), "{code}");
        }
        assert!(!is_throttling("InvalidChangeBatch"));
    }

    #[test]
    fn an_answer_that_is_not_aws_says_to_check_the_endpoint() {
        let err: Error = SdkError::response_error("failed to parse XML", response(200));
        let text = explain(&err, "sts:GetCallerIdentity");
        one_line(&text);
        assert!(text.contains("is not an AWS API's (HTTP 200)") && text.contains("endpoint_url"), "{text}");
    }

    #[test]
    fn a_call_error_keeps_its_code_and_a_short_message() {
        let long = "x".repeat(500);
        let text = explain(&service(400, "RuleNotFound", &long), "elasticloadbalancing:DescribeRules");
        one_line(&text);
        assert!(text.starts_with("RuleNotFound: xxx") && text.ends_with('…'), "{text}");
    }
}
