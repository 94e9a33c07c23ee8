//! `stacklab image build|check`.

use anyhow::Context;
use sandbox::image::{BuildOptions, LabImage};

use crate::cli::ImageCommand;

pub fn run(command: ImageCommand) -> anyhow::Result<()> {
    match command {
        ImageCommand::Build { out, force, package_cache } => {
            let options = BuildOptions { out: out.clone(), force, cache_dir: package_cache };
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
