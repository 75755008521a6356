//! Application security groups: a name that NICs join and rules name.

use super::{Inventory, Res};
use crate::import::resource::Kind;
use crate::import::source::Src;

impl Inventory {
    pub(super) fn asg(&mut self, res: usize, names: &[String], rsrc: &Src) -> Res<()> {
        if self.define(Kind::Asg, names, rsrc, res) {
            self.asgs.push((names[0].clone(), res));
        }
        Ok(())
    }
}
