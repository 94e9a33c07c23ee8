//! Names and Role Provisioning: the course's learners, read from the LMS, made learners of its
//! class ahead of their first launch (no sandbox until they come).

use super::Lti;
use super::grades::issuer_of;
use super::launch::CourseRole;
use crate::store::lti::Platform;
use crate::store::{Class, StoreError, Vouched};
use crate::updates::{Update, Updates};

impl Lti {
    /// Reads the roster at `memberships_url` into `class`; how many learners that added.
    pub async fn fill_roster(&self, updates: &Updates, platform: &Platform, class: &Class, memberships_url: &str) -> Result<usize, String> {
        let members = self.roster(platform, memberships_url).await.map_err(|e| {
            tracing::warn!(class = %class.id, "the LMS's roster: {e}");
            e.to_string()
        })?;
        let store = self.store();
        let mut added = 0;
        for member in members.iter().filter(|m| m.role == CourseRole::Learner) {
            let who = Vouched {
                issuer: issuer_of(&platform.id),
                subject: member.user_id.clone(),
                display_name: member.name.clone().unwrap_or_else(|| "Learner".into()),
                email: member.email.clone(),
                staff: false,
            };
            let outcome = async {
                let identity = store.vouched(&who).await?;
                if store.identity_learner(&identity.id, Some(&class.id)).await?.is_some() {
                    return Ok(false);
                }
                let learner = store.create_learner(&class.id, &identity.display_name, None).await?;
                store.link_identity(&learner.id, &identity.id).await?;
                let _ = updates.send(Update::Joined { learner: learner.id.clone(), class_id: class.id.clone() });
                Ok::<_, StoreError>(true)
            };
            match outcome.await {
                Ok(true) => added += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(class = %class.id, "adding a learner from the LMS's roster: {e}");
                    return Err("the roster could not be saved".into());
                }
            }
        }
        tracing::info!(class = %class.id, members = members.len(), added, "roster read from the LMS");
        Ok(added)
    }
}
