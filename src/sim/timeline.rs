//! The timeline's steps, with every name already resolved to ids by the loader.

use crate::jit::{PolicyChange, PortRequest, RequestSource, RequestStatus};
use crate::model::{AdminConfigId, ConceptQuestion, Correction, NicId, NsgId, SubnetId, VmId, VnetId};
use crate::nsg::{Access, SecurityRule};
use crate::path::FlowRequest;

use super::Duration;

/// Where an NSG is associated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attachment {
    /// A subnet.
    Subnet(SubnetId),
    /// A network interface.
    Nic(NicId),
}

/// The names a flow was written with, for the narrative.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// Source as written (`alice`, `vm1`, `203.0.113.5`).
    pub from: String,
    /// Destination as written.
    pub to: String,
}

/// A change a step makes.
#[derive(Clone, Debug)]
pub enum Action {
    /// Associate an NSG.
    AttachNsg {
        /// The NSG.
        nsg: NsgId,
        /// Where.
        target: Attachment,
    },
    /// Remove an association.
    DetachNsg {
        /// Where.
        target: Attachment,
    },
    /// Add a rule (replacing one of the same name).
    AddRule {
        /// The NSG.
        nsg: NsgId,
        /// The rule.
        rule: SecurityRule,
    },
    /// Delete a rule by name.
    RemoveRule {
        /// The NSG.
        nsg: NsgId,
        /// The rule's name.
        name: String,
    },
    /// Set `allowVirtualNetworkAccess` on `vnet`'s side of its peering with `remote`.
    SetPeeringAccess {
        /// The VNet whose side changes.
        vnet: VnetId,
        /// The peered VNet.
        remote: VnetId,
        /// The new value.
        allow: bool,
    },
    /// Commit a security admin configuration of Virtual Network Manager: it becomes its network
    /// manager's deployed security admin configuration (the goal state), replacing the one
    /// deployed before. nsgsim has no regions: the commit covers every VNet of the manager's
    /// network groups (model choice).
    DeployAdminConfiguration {
        /// The configuration.
        configuration: AdminConfigId,
    },
    /// Remove a deployed security admin configuration (a commit of no security admin
    /// configuration, Azure's "None", for its network manager).
    UndeployAdminConfiguration {
        /// The configuration.
        configuration: AdminConfigId,
    },
    /// Open and track a connection if the flow is allowed.
    Connect {
        /// Its name.
        name: String,
        /// The flow.
        request: FlowRequest,
        /// Names for the narrative.
        endpoints: Endpoints,
    },
    /// Close a tracked connection.
    Disconnect {
        /// Its name.
        name: String,
    },
    /// Enable JIT on a VM, or update its policy.
    EnableJit {
        /// The VM.
        vm: VmId,
        /// Who does it (a user name); `None` = the scenario's setup principal (Owner).
        actor: Option<String>,
        /// What to set; fields left out keep their values on an edit (or take the scoped policy's
        /// or Defender's defaults on a first enable).
        change: PolicyChange,
        /// Whether this is an `EditJit`, which is refused on a VM where JIT is not enabled.
        edit: bool,
    },
    /// "Enable JIT on n VMs": several VMs in one action of the portal, all or none.
    EnableJitOnVms {
        /// The VMs.
        vms: Vec<VmId>,
        /// Who does it; `None` = the scenario's Owner.
        actor: Option<String>,
        /// What to set (fields left out take each VM's scoped policy or Defender's defaults).
        change: PolicyChange,
    },
    /// Turn Microsoft Defender for Servers Plan 2 on or off (JIT requires it).
    SetDefenderPlan2 {
        /// On or off.
        enabled: bool,
        /// Who does it; `None` = the scenario's Owner.
        actor: Option<String>,
    },
    /// Request access from a VM's Connect page: every port of its policy, from the requester's
    /// IP; when JIT is not enabled, the page prompts to enable it.
    ConnectPageRequest {
        /// The scenario's name for the request.
        name: String,
        /// The requester (a user name).
        user: String,
        /// The VM.
        vm: VmId,
        /// Whether the requester accepts the prompt to enable JIT, when it is not enabled.
        enable: bool,
        /// Free text.
        justification: Option<String>,
    },
    /// Disable JIT on a VM.
    DisableJit {
        /// The VM.
        vm: VmId,
        /// Who does it; `None` = the setup principal.
        actor: Option<String>,
    },
    /// Request JIT access.
    RequestJit {
        /// The scenario's name for the request.
        name: String,
        /// The requester (a user name).
        user: String,
        /// VMs and ports.
        ports: Vec<PortRequest>,
        /// How long.
        duration: Duration,
        /// Source to allow; `None` = the requester's IP, `RequestSource::Any` = `*`.
        source: Option<RequestSource>,
        /// Free text.
        justification: Option<String>,
    },
    /// Approve a pending request (nsgsim extension).
    ApproveJit {
        /// The request's name.
        request: String,
        /// The approver (a user name).
        approver: String,
    },
    /// Deny a pending request (nsgsim extension).
    DenyJit {
        /// The request's name.
        request: String,
        /// The approver.
        approver: String,
        /// Why.
        reason: String,
    },
    /// End a request's grants now (nsgsim extension; the JIT API has no revoke).
    RevokeJit {
        /// The request's name.
        request: String,
        /// Who (a user name).
        actor: String,
    },
}

/// A check a step makes.
#[derive(Clone, Debug)]
pub enum Expectation {
    /// A new flow's verdict and optionally the deciding NSG and rule.
    Flow {
        /// The flow.
        request: FlowRequest,
        /// Names for the narrative.
        endpoints: Endpoints,
        /// Expected verdict.
        verdict: Access,
        /// Expected deciding NSG.
        nsg: Option<NsgId>,
        /// Expected deciding rule (`securityRules/NAME`, `defaultSecurityRules/NAME` or `NAME`).
        rule: Option<String>,
    },
    /// Reply traffic of a tracked connection.
    Reply {
        /// The connection.
        connection: String,
        /// Expected verdict.
        verdict: Access,
    },
    /// A tracked connection's state.
    Connection {
        /// Its name.
        name: String,
        /// Whether it should be open.
        open: bool,
    },
    /// A VM's JIT status (the portal's three lists).
    JitStatus {
        /// The VM.
        vm: VmId,
        /// `Configured`, `NotConfigured` or `Unsupported` ([`crate::jit::Supportability::label`]).
        status: String,
        /// A piece of text the unsupported reason must contain.
        reason: Option<String>,
    },
    /// A JIT request's status.
    JitRequest {
        /// The request's name.
        request: String,
        /// Expected status.
        status: RequestStatus,
        /// A piece of text the refusal or denial reason must contain.
        reason: Option<String>,
    },
    /// How many JIT rules protect/open a VM in one NSG (or all NSGs on its path).
    JitRules {
        /// The VM.
        vm: VmId,
        /// The NSG; `None` = every NSG.
        nsg: Option<NsgId>,
        /// Expected number of JIT deny rules.
        deny: Option<usize>,
        /// Expected number of JIT allow rules.
        allow: Option<usize>,
    },
    /// Which required rules the Bastion subnet's NSG lacks.
    BastionRules {
        /// The Bastion host.
        bastion: crate::model::BastionId,
        /// Expected missing rule names.
        missing: Vec<String>,
    },
    /// Whether an NSG has a rule.
    Rule {
        /// The NSG.
        nsg: NsgId,
        /// The rule name.
        name: String,
        /// Whether it should exist.
        exists: bool,
    },
}

/// One step of the timeline.
///
/// The optional parts are boxed: most steps have one or two of them, and inline they made a step
/// 592 bytes (a million-step timeline held 0.6 GB of steps).
#[derive(Clone, Debug)]
pub struct Step {
    /// Offset from the scenario's start.
    pub at: Duration,
    /// A change, if any.
    pub action: Option<Box<Action>>,
    /// A check, if any.
    pub expect: Option<Box<Expectation>>,
    /// Narrative text, if any.
    pub note: Option<String>,
    /// A training text's claim and Microsoft's answer, shown with the step, if any.
    pub correction: Option<Box<Correction>>,
    /// A concept question for the quiz, asked at this point of the story, if any (the run
    /// itself ignores it).
    pub question: Option<Box<ConceptQuestion>>,
    /// Where the step is in the scenario file, for messages.
    pub position: Option<crate::position::Position>,
    /// The step's place in the scenario's timeline: it is written at the field
    /// `timeline[index]` ([`Step::path`]).
    pub index: usize,
}

impl Step {
    /// The step's field path in the file (`timeline[3]`), for messages.
    pub fn path(&self) -> crate::scenario::FieldPath {
        crate::scenario::FieldPath::root("timeline").index(self.index)
    }
}
