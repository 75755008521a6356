//! Deploying and removing a Virtual Network Manager security admin configuration in a timeline.
//!
//! Microsoft ("Configuration deployments in Azure Virtual Network Manager"): "Configurations
//! don't take effect until they're deployed." A commit describes the manager's goal state in the
//! regions it names: "when you commit configurations named *Config1* and *Config2* into a region,
//! these two configurations get applied and become the region's goal state. If you decided to
//! commit configuration named *Config1* and *Config3* into the same region, *Config2* would then
//! be removed"; "Only one security configuration can be deployed to a region"; "To remove all
//! configurations, you would deploy a **None** configuration against the region(s)".
//!
//! nsgsim's VNets carry no region, so a deployment here covers every VNet of the manager's
//! network groups (model choice, said in the step's output): deploying a configuration removes
//! the other configuration of the same manager deployed before, and removing one is the commit
//! of "None" for that manager.
//!
//! Established connections: Microsoft does not say what a deployment does to flows already
//! open. nsgsim keeps them open, as an NSG rule change without `flushConnection` does (model
//! choice), and each open connection that a new flow like it would no longer pass is named in a
//! warning of the step, so the answer is never a silent all-clear.

use crate::model::AdminConfigId;
use crate::nsg::Access;

use super::{ActionError, ActionFault, ActionOutcome, Happened, Simulator, Warning};

impl Simulator {
    /// Deploys (`deploy`) or removes the deployment of the configuration `id`, then names the
    /// open connections that a new flow like them would no longer pass.
    ///
    /// # Errors
    /// Removing a configuration that is not deployed (Azure has nothing to remove), with the
    /// deployed configurations as what is valid.
    pub(super) fn set_admin_deployment(
        &mut self,
        id: AdminConfigId,
        deploy: bool,
    ) -> Result<ActionOutcome, ActionError> {
        let t = &self.topology;
        let config = t.admin_configuration(id);
        let (name, manager) = (config.name.clone(), config.network_manager.clone());
        if !deploy && !config.deployed {
            let deployed: Vec<String> = t
                .admin_configuration_ids()
                .map(|c| t.admin_configuration(c))
                .filter(|c| c.deployed)
                .map(|c| c.name.clone())
                .collect();
            return Err(ActionError::new(
                &["configuration"],
                ActionFault::AdminNotDeployed { configuration: name, deployed },
            ));
        }
        let allowed_before = self.open_connections_allowed();
        let what = if deploy {
            let already = config.deployed;
            // The manager's goal state holds one security admin configuration.
            let replaced: Vec<AdminConfigId> = t
                .admin_configuration_ids()
                .filter(|c| *c != id)
                .filter(|c| {
                    let other = t.admin_configuration(*c);
                    other.deployed && other.network_manager.eq_ignore_ascii_case(&manager)
                })
                .collect();
            let replaced_names = replaced.iter().map(|c| t.admin_configuration(*c).name.clone()).collect();
            for c in replaced {
                self.topology.set_admin_deployed(c, false);
            }
            self.topology.set_admin_deployed(id, true);
            Happened::AdminConfigurationDeployed {
                configuration: name,
                network_manager: manager,
                replaced: replaced_names,
                already,
            }
        } else {
            self.topology.set_admin_deployed(id, false);
            Happened::AdminConfigurationUndeployed { configuration: name, network_manager: manager }
        };
        // The admin rules are compiled per VNet context: recompile them.
        self.cache.rebuild(&self.topology);
        let mut outcome = ActionOutcome::of(what);
        for connection in allowed_before {
            let trace = self.evaluate(&self.connections[&connection].request);
            if trace.verdict == Access::Deny {
                let detail = trace.deciding_hop().map(|h| h.detail.clone());
                outcome.warnings.push(Warning::AdminDenyKeepsConnection { connection, detail });
            }
        }
        Ok(outcome)
    }

    /// The open connections whose flow the current rules allow, by name.
    fn open_connections_allowed(&self) -> Vec<String> {
        self.connections
            .iter()
            .filter(|(_, c)| c.open && self.evaluate(&c.request).verdict == Access::Allow)
            .map(|(n, _)| n.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::sim::testing::outcomes;
    use crate::sim::{Found, Happened, Warning};

    #[test]
    fn a_deployment_replaces_the_managers_configuration_and_keeps_open_connections() {
        // The testing scenario has no admin configuration: this one adds two to a copy.
        let report = crate::sim::testing::play_with(
            r#"network_groups: [NetworkGroup(name: "ng", vnets: ["v"])],
               security_admin_configurations: [
                 SecurityAdminConfiguration(name: "deny-ssh", network_manager: "avnm", deployed: false, rule_collections: [
                   AdminRuleCollection(name: "c", applies_to: ["ng"], rules: [
                     AdminRule(name: "deny-22", priority: 10, direction: Inbound, action: Deny, protocol: Tcp, destination_ports: "22"),
                   ]),
                 ]),
                 SecurityAdminConfiguration(name: "empty", network_manager: "avnm", deployed: true, rule_collections: []),
               ],"#,
            r#"(at: "0", action: Connect(name: "ssh", from: "vm2", to: "vm1", port: 22)),
               (at: "1m", action: DeployAdminConfiguration(configuration: "deny-ssh")),
               (at: "1m", expect: Connection(name: "ssh", open: true)),
               (at: "1m", expect: Flow(from: "vm2", to: "vm1", port: 22, verdict: Deny, rule: "deny-22")),
               (at: "2m", action: UndeployAdminConfiguration(configuration: "deny-ssh")),
               (at: "2m", expect: Flow(from: "vm2", to: "vm1", port: 22, verdict: Allow))"#,
        );
        let got = outcomes(&report);
        assert!(got.iter().all(|o| o.0), "every expectation passes: {got:?}");
        assert_eq!(got[0].2, Found::Connection { open: true });
        let deployed = report.steps[1].action.as_ref().expect("an action");
        assert_eq!(
            deployed.what,
            Happened::AdminConfigurationDeployed {
                configuration: "deny-ssh".into(),
                network_manager: "avnm".into(),
                replaced: vec!["empty".into()],
                already: false,
            }
        );
        assert!(
            matches!(&deployed.warnings[..], [Warning::AdminDenyKeepsConnection { connection, detail }]
                if connection == "ssh" && detail.as_ref().is_some_and(|d| d.to_string().contains("deny-ssh/c/deny-22"))),
            "{:?}",
            deployed.warnings
        );
        assert!(deployed.warnings[0].to_string().contains("model choice"));
        let removed = report.steps[4].action.as_ref().expect("an action");
        assert_eq!(
            removed.what.to_string(),
            "removed the deployment of security admin configuration 'deny-ssh' of network manager 'avnm': its admin rules no longer apply"
        );
    }

    #[test]
    fn removing_a_configuration_that_is_not_deployed_is_an_error_naming_the_deployed_ones() {
        let err = crate::sim::testing::run_with_error(
            r#"network_groups: [NetworkGroup(name: "ng", vnets: ["v"])],
               security_admin_configurations: [
                 SecurityAdminConfiguration(name: "a", network_manager: "avnm", deployed: false, rule_collections: []),
                 SecurityAdminConfiguration(name: "b", network_manager: "avnm", deployed: true, rule_collections: []),
               ],"#,
            r#"(at: "0", action: UndeployAdminConfiguration(configuration: "a"))"#,
        );
        assert!(
            err.contains(
                "security admin configuration 'a' is not deployed; valid: a deployed configuration (b)"
            ),
            "{err}"
        );
    }
}
