//! Node disruption signals: what happened to a node that tends to come
//! before 502/504s, where the console learned it, and how a signal names
//! its node. The one table of signal facts (label, loudness, source); a
//! new source of signals adds its kinds here.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Node, Side};

/// How a signal names the node it is about: by the node's name, as
/// Kubernetes' own signals do, or by the EC2 instance behind it, as EC2
/// Auto Scaling activities and CloudTrail events do. The node's
/// `instance_id` (its `providerID`) ties the second to a node.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeRef {
    Name(String),
    Instance(String),
}

impl NodeRef {
    /// Whether `node` is the one this names.
    pub fn is(&self, node: &Node) -> bool {
        match self {
            NodeRef::Name(name) => node.name == *name,
            NodeRef::Instance(id) => node.instance_id.as_deref() == Some(id.as_str()),
        }
    }

    /// The node this names among a side's nodes (kept by name): None when
    /// it is not one of them, or not yet (an instance that has not
    /// registered as a node).
    pub fn find<'a>(&self, nodes: &'a BTreeMap<String, Node>) -> Option<&'a Node> {
        match self {
            NodeRef::Name(name) => nodes.get(name),
            NodeRef::Instance(_) => nodes.values().find(|n| self.is(n)),
        }
    }
}

impl std::fmt::Display for NodeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeRef::Name(name) | NodeRef::Instance(name) => f.write_str(name),
        }
    }
}

/// Something that happened to a node and tends to precede 502/504s: the
/// lesson of the field notes is that these belong on the 5xx time axis.
/// Each is named by its source (the termination handler, Karpenter, the
/// Cluster Autoscaler, the node lifecycle controller, the kubelet).
///
/// Recordings store the variant's name: variants are only ever added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NodeSignalKind {
    /// NTH taint `aws-node-termination-handler/spot-itn`.
    SpotInterruption,
    /// NTH taint `aws-node-termination-handler/rebalance-recommendation`.
    Rebalance,
    /// `spec.unschedulable`.
    Cordon,
    /// Condition Ready False or Unknown (or no Ready condition).
    NotReady,
    /// The node object went away (terminated, scaled in).
    Removed,
    /// NTH taint `aws-node-termination-handler/scheduled-maintenance`.
    NthScheduledMaintenance,
    /// NTH taint `aws-node-termination-handler/asg-lifecycle-termination`.
    NthAsgTermination,
    /// Karpenter taint `karpenter.sh/disrupted` (v1) or
    /// `karpenter.sh/disruption=disrupting` (before v1).
    KarpenterDisrupted,
    /// Karpenter Node Event `DisruptionTerminating`, "Underutilized" or "Empty".
    KarpenterConsolidation,
    /// Karpenter Node Event `DisruptionTerminating`, "Drifted".
    KarpenterDrift,
    /// Karpenter Node Event `DisruptionTerminating`, "Expired".
    KarpenterExpiration,
    /// Karpenter Node Event `SpotRebalanceRecommendation` (no taint).
    KarpenterRebalance,
    /// Karpenter Node Event `SpotInterrupted`.
    KarpenterSpotInterruption,
    /// Karpenter Node Event `InstanceStopping` or `InstanceTerminating`.
    KarpenterInstanceStopping,
    /// Cluster Autoscaler taint `ToBeDeletedByClusterAutoscaler`.
    AutoscalerScaleDown,
    /// Cluster Autoscaler soft taint `DeletionCandidateOfClusterAutoscaler`.
    AutoscalerCandidate,
    /// Taint `node.kubernetes.io/unschedulable` without `spec.unschedulable`.
    TaintUnschedulable,
    /// Taint `node.kubernetes.io/not-ready`.
    TaintNotReady,
    /// Taint `node.kubernetes.io/unreachable`.
    TaintUnreachable,
    /// Taint `node.kubernetes.io/out-of-service` (non-graceful shutdown).
    OutOfService,
    /// Taint `node.cloudprovider.kubernetes.io/shutdown`.
    CloudShutdown,
    /// Conditions MemoryPressure, DiskPressure, PIDPressure,
    /// NetworkUnavailable: True.
    MemoryPressure,
    DiskPressure,
    PidPressure,
    NetworkUnavailable,
    /// EC2 Auto Scaling activity "Terminating EC2 instance" whose cause
    /// names a capacity rebalance (matched by substring: the exact text is
    /// not documented).
    AsgRebalance,
    /// EC2 Auto Scaling activity "Terminating EC2 instance" for any other
    /// cause (scale-in, a failed health check, AZ rebalancing).
    AsgTermination,
    /// CloudTrail `BidEvictedEvent`: EC2 took a Spot instance back.
    SpotBidEvicted,
    /// CloudTrail `TerminateInstances` called by a person or a tool.
    InstanceTerminated,
}

impl NodeSignalKind {
    /// The signals a node's state (taints, conditions, spec) can show, in
    /// the order they are listed and compared.
    pub const ON_NODE: [NodeSignalKind; 18] = [
        NodeSignalKind::SpotInterruption,
        NodeSignalKind::Rebalance,
        NodeSignalKind::NthScheduledMaintenance,
        NodeSignalKind::NthAsgTermination,
        NodeSignalKind::KarpenterDisrupted,
        NodeSignalKind::AutoscalerScaleDown,
        NodeSignalKind::AutoscalerCandidate,
        NodeSignalKind::OutOfService,
        NodeSignalKind::CloudShutdown,
        NodeSignalKind::Cordon,
        NodeSignalKind::TaintUnschedulable,
        NodeSignalKind::NotReady,
        NodeSignalKind::TaintNotReady,
        NodeSignalKind::TaintUnreachable,
        NodeSignalKind::MemoryPressure,
        NodeSignalKind::DiskPressure,
        NodeSignalKind::PidPressure,
        NodeSignalKind::NetworkUnavailable,
    ];

    /// The ones `Node::disruptions` holds (the rest have fields of their own).
    pub const TRIMMED: [NodeSignalKind; 14] = [
        NodeSignalKind::NthScheduledMaintenance,
        NodeSignalKind::NthAsgTermination,
        NodeSignalKind::KarpenterDisrupted,
        NodeSignalKind::AutoscalerScaleDown,
        NodeSignalKind::AutoscalerCandidate,
        NodeSignalKind::OutOfService,
        NodeSignalKind::CloudShutdown,
        NodeSignalKind::TaintUnschedulable,
        NodeSignalKind::TaintNotReady,
        NodeSignalKind::TaintUnreachable,
        NodeSignalKind::MemoryPressure,
        NodeSignalKind::DiskPressure,
        NodeSignalKind::PidPressure,
        NodeSignalKind::NetworkUnavailable,
    ];

    /// The signal's name, its source first where it has one.
    pub fn label(self) -> &'static str {
        match self {
            NodeSignalKind::SpotInterruption => "NTH spot interruption",
            NodeSignalKind::Rebalance => "NTH rebalance recommendation",
            NodeSignalKind::NthScheduledMaintenance => "NTH scheduled maintenance",
            NodeSignalKind::NthAsgTermination => "NTH ASG lifecycle termination",
            NodeSignalKind::KarpenterDisrupted => "Karpenter disruption",
            NodeSignalKind::KarpenterConsolidation => "Karpenter consolidation",
            NodeSignalKind::KarpenterDrift => "Karpenter drift",
            NodeSignalKind::KarpenterExpiration => "Karpenter expiration",
            NodeSignalKind::KarpenterRebalance => "Karpenter rebalance recommendation",
            NodeSignalKind::KarpenterSpotInterruption => "Karpenter spot interruption",
            NodeSignalKind::KarpenterInstanceStopping => "Karpenter instance stopping",
            NodeSignalKind::AutoscalerScaleDown => "Cluster Autoscaler scale-down",
            NodeSignalKind::AutoscalerCandidate => "Cluster Autoscaler deletion candidate",
            NodeSignalKind::Cordon => "cordoned",
            NodeSignalKind::TaintUnschedulable => "node unschedulable (taint)",
            NodeSignalKind::NotReady => "NotReady (condition)",
            NodeSignalKind::TaintNotReady => "node not-ready (taint)",
            NodeSignalKind::TaintUnreachable => "node unreachable (taint)",
            NodeSignalKind::OutOfService => "node out-of-service (taint)",
            NodeSignalKind::CloudShutdown => "node shutdown (cloud provider taint)",
            NodeSignalKind::MemoryPressure => "memory pressure",
            NodeSignalKind::DiskPressure => "disk pressure",
            NodeSignalKind::PidPressure => "PID pressure",
            NodeSignalKind::NetworkUnavailable => "network unavailable",
            NodeSignalKind::Removed => "node removed",
            NodeSignalKind::AsgRebalance => "ASG capacity rebalance",
            NodeSignalKind::AsgTermination => "ASG terminating instance",
            NodeSignalKind::SpotBidEvicted => "Spot instance reclaimed (BidEvictedEvent)",
            NodeSignalKind::InstanceTerminated => "TerminateInstances called",
        }
    }

    /// How well the signal explains pods leaving the node, for naming what
    /// they were lost to: 3 a decision to take the node away (a handler, an
    /// autoscaler, a cloud notice), 2 the node failing, 1 a cordon or the
    /// node gone without a reason seen, 0 never a cause (a soft mark).
    pub fn cause_rank(self) -> u8 {
        match self {
            NodeSignalKind::SpotInterruption
            | NodeSignalKind::Rebalance
            | NodeSignalKind::NthScheduledMaintenance
            | NodeSignalKind::NthAsgTermination
            | NodeSignalKind::KarpenterDisrupted
            | NodeSignalKind::KarpenterConsolidation
            | NodeSignalKind::KarpenterDrift
            | NodeSignalKind::KarpenterExpiration
            | NodeSignalKind::KarpenterRebalance
            | NodeSignalKind::KarpenterSpotInterruption
            | NodeSignalKind::KarpenterInstanceStopping
            | NodeSignalKind::AutoscalerScaleDown
            | NodeSignalKind::OutOfService
            | NodeSignalKind::CloudShutdown
            | NodeSignalKind::AsgRebalance
            | NodeSignalKind::AsgTermination
            | NodeSignalKind::SpotBidEvicted
            | NodeSignalKind::InstanceTerminated => 3,
            NodeSignalKind::NotReady
            | NodeSignalKind::TaintNotReady
            | NodeSignalKind::TaintUnreachable
            | NodeSignalKind::MemoryPressure
            | NodeSignalKind::DiskPressure
            | NodeSignalKind::PidPressure
            | NodeSignalKind::NetworkUnavailable => 2,
            NodeSignalKind::Cordon | NodeSignalKind::TaintUnschedulable | NodeSignalKind::Removed => 1,
            NodeSignalKind::AutoscalerCandidate => 0,
        }
    }

    /// How loud the events panel says it: capacity going now, capacity
    /// about to go, or a soft mark.
    pub fn severity(self) -> Severity {
        match self {
            NodeSignalKind::SpotInterruption
            | NodeSignalKind::KarpenterSpotInterruption
            | NodeSignalKind::KarpenterInstanceStopping
            | NodeSignalKind::NotReady
            | NodeSignalKind::TaintNotReady
            | NodeSignalKind::TaintUnreachable
            | NodeSignalKind::OutOfService
            | NodeSignalKind::CloudShutdown
            | NodeSignalKind::NthAsgTermination
            | NodeSignalKind::AsgRebalance
            | NodeSignalKind::AsgTermination
            | NodeSignalKind::SpotBidEvicted
            | NodeSignalKind::InstanceTerminated => Severity::Alert,
            NodeSignalKind::AutoscalerCandidate => Severity::Info,
            _ => Severity::Warn,
        }
    }
}

/// A node signal's loudness (the app's event levels, without the app).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Info,
    Warn,
    Alert,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeSignal {
    pub at: Timestamp,
    pub side: Side,
    pub node: String,
    pub kind: NodeSignalKind,
}

/// A Kubernetes Event about a Node that is a disruption signal (Karpenter's
/// Normal events among them), trimmed to the signal and its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeEvent {
    pub at: Timestamp,
    pub node: String,
    pub kind: NodeSignalKind,
    /// The Event's reason, `DisruptionTerminating`...
    pub reason: String,
}

/// Where a signal came from, as the postmortem names it: which
/// controller, agent or API said so. The ones read from the clusters'
/// own objects come with the cluster's source; one read from elsewhere
/// (an EC2 Auto Scaling reader) is a source of the console's own, with
/// its health in the header (`SourceId::Signals`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SignalSource {
    TerminationHandler,
    Karpenter,
    ClusterAutoscaler,
    NodeSpec,
    Kubelet,
    NodeLifecycle,
    CloudProvider,
    KubernetesApi,
    /// EC2 Auto Scaling's scaling activities, read by the console.
    AutoScaling,
    /// CloudTrail's management events, read by the console.
    CloudTrail,
}

impl SignalSource {
    pub const ALL: [SignalSource; 10] = [
        SignalSource::TerminationHandler,
        SignalSource::Karpenter,
        SignalSource::ClusterAutoscaler,
        SignalSource::NodeSpec,
        SignalSource::Kubelet,
        SignalSource::NodeLifecycle,
        SignalSource::CloudProvider,
        SignalSource::KubernetesApi,
        SignalSource::AutoScaling,
        SignalSource::CloudTrail,
    ];

    /// The source's name in the header, and in a recording's `Source`
    /// messages (the recording format's), when it is read apart from the
    /// clusters; None for a signal the clusters' own objects carry.
    pub fn reader(self) -> Option<(&'static str, &'static str)> {
        match self {
            SignalSource::TerminationHandler
            | SignalSource::Karpenter
            | SignalSource::ClusterAutoscaler
            | SignalSource::NodeSpec
            | SignalSource::Kubelet
            | SignalSource::NodeLifecycle
            | SignalSource::CloudProvider
            | SignalSource::KubernetesApi => None,
            SignalSource::AutoScaling => Some(("asg", "autoscaling")),
            SignalSource::CloudTrail => Some(("trail", "cloudtrail")),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SignalSource::TerminationHandler => "aws-node-termination-handler",
            SignalSource::Karpenter => "karpenter",
            SignalSource::ClusterAutoscaler => "cluster-autoscaler",
            SignalSource::NodeSpec => "node spec (cordon)",
            SignalSource::Kubelet => "kubelet (node condition)",
            SignalSource::NodeLifecycle => "node lifecycle controller (taint)",
            SignalSource::CloudProvider => "cloud provider (taint)",
            SignalSource::KubernetesApi => "Kubernetes API (node deleted)",
            SignalSource::AutoScaling => "EC2 Auto Scaling",
            SignalSource::CloudTrail => "CloudTrail",
        }
    }
}

impl NodeSignalKind {
    /// Who says so: the signal's source.
    pub fn source(self) -> SignalSource {
        use NodeSignalKind as K;
        match self {
            K::SpotInterruption | K::Rebalance | K::NthScheduledMaintenance | K::NthAsgTermination => {
                SignalSource::TerminationHandler
            }
            K::KarpenterDisrupted
            | K::KarpenterConsolidation
            | K::KarpenterDrift
            | K::KarpenterExpiration
            | K::KarpenterRebalance
            | K::KarpenterSpotInterruption
            | K::KarpenterInstanceStopping => SignalSource::Karpenter,
            K::AutoscalerScaleDown | K::AutoscalerCandidate => SignalSource::ClusterAutoscaler,
            K::Cordon | K::TaintUnschedulable => SignalSource::NodeSpec,
            K::NotReady | K::MemoryPressure | K::DiskPressure | K::PidPressure | K::NetworkUnavailable => {
                SignalSource::Kubelet
            }
            K::TaintNotReady | K::TaintUnreachable | K::OutOfService => SignalSource::NodeLifecycle,
            K::CloudShutdown => SignalSource::CloudProvider,
            K::Removed => SignalSource::KubernetesApi,
            K::AsgRebalance | K::AsgTermination => SignalSource::AutoScaling,
            K::SpotBidEvicted | K::InstanceTerminated => SignalSource::CloudTrail,
        }
    }
}

/// A signal from a source outside the clusters' own objects (an EC2 Auto
/// Scaling activity, a CloudTrail event): it names its node by reference,
/// and the console puts it on the node's side once it knows the node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalSeen {
    pub at: Timestamp,
    pub node: NodeRef,
    pub kind: NodeSignalKind,
    /// What the source said, in its words (an activity's cause), scrubbed.
    pub detail: String,
}
