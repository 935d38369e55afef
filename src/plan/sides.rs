//! The two sides and the AWS account: `[old]`, `[new]` and `[aws]`.

use std::path::PathBuf;
use std::time::Duration;

use super::DEFAULT_ALB_POLL_SECS;
use super::error::{Located, PlanError, line_col};
use super::values::expand_home;
use super::{ClusterFile, PlanFile};

/// Where one side's Kubernetes API is.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterTarget {
    pub context: String,
    /// None: KUBECONFIG or ~/.kube/config, as kubectl does.
    pub kubeconfig: Option<PathBuf>,
    /// The plan's line and column of `context`, for a refusal to point at.
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AwsTarget {
    pub region: String,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub alb_poll: Duration,
}

/// `[old]` (None: EC2 behind the ALB, no Kubernetes) and `[new]`; one
/// cluster named on both sides is refused at `[new]`'s context.
pub(super) fn clusters(loc: &Located<'_>, raw: &PlanFile) -> Result<(Option<ClusterTarget>, ClusterTarget), PlanError> {
    let text = loc.text;
    let whole = 0..0;
    let cluster = |c: &ClusterFile| -> Result<ClusterTarget, PlanError> {
        if c.context.get_ref().trim().is_empty() {
            return Err(loc.at(c.context.span(), "`context` is empty", "a context name from your kubeconfig"));
        }
        Ok(ClusterTarget {
            context: c.context.get_ref().clone(),
            kubeconfig: c.kubeconfig.as_ref().map(|k| expand_home(k.get_ref())),
            line: line_col(text, c.context.span().start).0,
            column: line_col(text, c.context.span().start).1,
        })
    };
    let old = raw.old.as_ref().map(cluster).transpose()?;
    let new = match &raw.new {
        Some(n) => cluster(n.get_ref())?,
        None => {
            return Err(loc.at(
                whole.clone(),
                "missing table `[new]`",
                "add [new] with the new cluster's kubeconfig context: [new]\\ncontext = \"eks-2026\"",
            ));
        }
    };
    // One cluster on both sides makes every singleton look as if it ran
    // twice, and its fix stops the only copy.
    if let (Some(o), Some(n)) = (&old, &raw.new)
        && o.context == new.context
        && o.kubeconfig == new.kubeconfig
    {
        return Err(loc.at(
            n.get_ref().context.span(),
            format!(
                "[new] context `{}` is [old]'s context (line {}) in the same kubeconfig: both sides would be one cluster",
                new.context, o.line
            ),
            "give [new] the new cluster's context (`kubectl config get-contexts` lists them), or leave out [old] when the old side is EC2",
        ));
    }
    Ok((old, new))
}

/// `[aws]`: the region and how to reach it.
pub(super) fn aws(loc: &Located<'_>, raw: &PlanFile) -> Result<AwsTarget, PlanError> {
    let whole = 0..0;
    let aws = match &raw.aws {
        Some(a) => {
            let a = a.get_ref();
            if a.region.get_ref().trim().is_empty() {
                return Err(loc.at(a.region.span(), "`region` is empty", "the ALB's region, e.g. \"ap-northeast-1\""));
            }
            if let Some(url) = &a.endpoint_url
                && !(url.get_ref().starts_with("http://") || url.get_ref().starts_with("https://"))
            {
                return Err(loc.at(
                    url.span(),
                    "`endpoint_url` is not an http(s) URL",
                    "e.g. \"http://127.0.0.1:5000\"",
                ));
            }
            let alb_poll = match &a.alb_poll {
                Some(p) if *p.get_ref() == 0 || *p.get_ref() > 300 => {
                    return Err(loc.at(p.span(), "`alb_poll` must be 1 to 300 seconds", "the default is 5"));
                }
                Some(p) => *p.get_ref(),
                None => DEFAULT_ALB_POLL_SECS,
            };
            AwsTarget {
                region: a.region.get_ref().clone(),
                profile: a.profile.clone(),
                endpoint_url: a.endpoint_url.as_ref().map(|u| u.get_ref().clone()),
                alb_poll: Duration::from_secs(alb_poll),
            }
        }
        None => {
            return Err(loc.at(whole, "missing table `[aws]`", "add [aws] with region = \"...\" (the ALB's region)"));
        }
    };

    Ok(aws)
}
