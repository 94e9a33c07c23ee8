//! `stacklab image build|check`.

use anyhow::Context;
use sandbox::image::{BuildOptions, LabImage};

use crate::cli::ImageCommand;

pub fn run(command: ImageCommand) -> anyhow::Result<()> {
    match command {
        ImageCommand::Build { out, force, package_cache, kubernetes } => {
            // A folder named but not built yet is not an error: the image is made without the tier.
            let kubernetes = kubernetes.filter(|dir| {
                let built = dir.join(".done").exists();
                if !built {
                    println!("    no Kubernetes binaries in {} (scripts/build-kubernetes): the image gets no cluster tier", dir.display());
                }
                built
            });
            let options = BuildOptions { out: out.clone(), force, cache_dir: package_cache, kubernetes };
            match sandbox::image::build(&options, |line| println!("    {line}")).context("building the lab image")? {
                sandbox::image::Outcome::Current(_) => println!("    skip: the lab image in {} is current", out.display()),
                sandbox::image::Outcome::Built(_) => {}
            }
            Ok(())
        }
        ImageCommand::Check { image } => {
            let image = LabImage::open(&image)?;
            println!("{}: ok (recipe {}, {})", image.dir().display(), image.manifest.recipe_hash, image.manifest.suite);
            Ok(())
        }
    }
}
