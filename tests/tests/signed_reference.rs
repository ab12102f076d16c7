//! Signed reference data end to end, through the admin's commands: a device that pinned the
//! mission root key at enrolment receives teams and checklists only in bundles the admin
//! signed with `bundle sign`; reference data the server holds unsigned reaches it not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldconsult_core::{Error, NoProgress};
use fieldconsult_e2e::Mission;

#[test]
fn a_pinned_device_gets_reference_data_only_from_signed_bundles() {
    let mission = Mission::start();
    let team_a = mission.add_team("Team A", "West");
    let key_file = mission.dir().join("root.key");
    let fingerprint = mission.admin(&["root-key", "generate", "--out", key_file.to_str().unwrap()]);
    assert_eq!(fingerprint.len(), 64);
    let signed = mission.admin(&["bundle", "sign", "--root-key", key_file.to_str().unwrap()]);
    assert!(signed.starts_with("bundle 1 signed"), "{signed}");

    let printed = mission.admin(&["enrol", "--team", &team_a.to_string()]);
    assert!(
        printed.ends_with(&format!("root key fingerprint {fingerprint}")),
        "{printed}"
    );
    let device = mission
        .pinned_device(&mission.team_code(team_a), "pinned", &fingerprint)
        .unwrap();
    let names = |d: &fieldconsult_e2e::Device| {
        d.store
            .teams()
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&device), vec!["Team A"]);
    assert!(device.store.latest_checklist().unwrap().is_some());

    // A team added on the server but not signed: the device does not take it.
    mission.add_team("Team B", "East");
    device
        .store
        .sync(&mission.transport(), &NoProgress)
        .unwrap();
    assert_eq!(names(&device), vec!["Team A"]);
    // Once the admin signs the next bundle, it does.
    mission.admin(&["bundle", "sign", "--root-key", key_file.to_str().unwrap()]);
    device
        .store
        .sync(&mission.transport(), &NoProgress)
        .unwrap();
    let mut got = names(&device);
    got.sort();
    assert_eq!(got, vec!["Team A", "Team B"]);
}

#[test]
fn a_device_refuses_a_server_with_another_root_key_than_its_qr_code() {
    let mission = Mission::start();
    let team = mission.add_team("Team A", "West");
    let key_file = mission.dir().join("root.key");
    mission.admin(&["root-key", "generate", "--out", key_file.to_str().unwrap()]);
    mission.admin(&["bundle", "sign", "--root-key", key_file.to_str().unwrap()]);
    let other = "0".repeat(64);
    let refused = mission.pinned_device(&mission.team_code(team), "impostor", &other);
    assert!(matches!(refused, Err(Error::RootKeyMismatch)));
}
