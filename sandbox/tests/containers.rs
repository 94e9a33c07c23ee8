//! The containers tier inside real sandboxes: Podman runs with the base images from the lab
//! image's shared read-only store, and two learners' image stores and containers are invisible
//! to each other — nor can one learner change the shared store under the other.

mod common;

use sandbox::{Backend, Device};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn two_learners_images_and_containers_are_their_own() {
    let Some(h) = common::harness("containers") else { return };
    for name in ["pod-a", "pod-b"] {
        let mut spec = h.spec(name, &format!("{name}-owner"));
        spec.devices = vec![Device::Fuse];
        h.backend.start(&spec).await.unwrap();
    }
    let shared = "docker.io/library/debian:bookworm-slim";

    // Both see the shared base images, read-only and not copied into their own store.
    for name in ["pod-a", "pod-b"] {
        let images = h.ok(name, "podman images --format '{{.Repository}}:{{.Tag}} {{.ReadOnly}}'").await;
        for image in [shared, "docker.io/library/golang:1.19-bookworm", "gcr.io/distroless/static-debian12:nonroot"] {
            assert!(images.contains(&format!("{image} true")), "{name} lists {image} from the shared store: {images}");
        }
    }

    // Learner a builds an image and leaves a container running.
    h.ok(
        "pod-a",
        &format!(
            "set -e; mkdir -p /root/ctx; printf 'FROM {shared}\\nRUN echo secret-of-a > /secret\\n' > /root/ctx/Dockerfile
             podman build -q -t localhost/only-in-a /root/ctx >/dev/null
             podman run -d --name only-in-a localhost/only-in-a sleep 600 >/dev/null
             podman run --rm localhost/only-in-a cat /secret"
        ),
    )
    .await;
    let a_ps = h.ok("pod-a", "podman ps --format '{{.Names}}'").await;
    assert!(a_ps.contains("only-in-a"), "{a_ps}");

    // Learner b sees neither, and cannot name them.
    let b_images = h.ok("pod-b", "podman images --format '{{.Repository}}'").await;
    assert!(!b_images.contains("only-in-a"), "b sees a's image: {b_images}");
    let b_ps = h.ok("pod-b", "podman ps -a --format '{{.Names}}'").await;
    assert!(!b_ps.contains("only-in-a"), "b sees a's container: {b_ps}");
    let b_exists = h.sh("pod-b", "podman image exists localhost/only-in-a || podman container exists only-in-a").await;
    assert!(!b_exists.success(), "b can name a's image or container: {b_exists:?}");
    let b_proc = h.ok("pod-b", "ps -eo args | grep -c '^sleep 600' || true").await;
    assert_eq!(b_proc.trim(), "0", "b sees a's container process");

    // a wrecking the shared store only wrecks a's view of it (it is the lab image, a lower layer).
    h.ok("pod-a", "rm -rf /usr/lib/containers/storage/overlay-images /usr/lib/containers/storage/overlay").await;
    let b_after = h.ok("pod-b", &format!("podman image exists {shared} && podman run --rm {shared} echo still-here")).await;
    assert_eq!(b_after, "still-here\n");

    // What b's own store holds: its container's layer, not a copy of the base images.
    let kib: u64 = h.ok("pod-b", "du -sk /var/lib/containers/storage | cut -f1").await.trim().parse().unwrap();
    assert!(kib < 20 * 1024, "b's store holds {kib} KiB: the shared images were copied");
}
