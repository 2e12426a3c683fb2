//! The reply and reminder templates deskmail ships (`templates/`), compiled into the binary:
//! used when no templates directory is configured, written out by `deskmail rules export`.

use std::path::Path;

use super::Templates;

/// `templates/*`, by file name (`NAME.txt`, optional `NAME.html`).
pub const TEMPLATE_FILES: &[(&str, &str)] = &[
    (
        "ap-acknowledge.txt",
        include_str!("../../templates/ap-acknowledge.txt"),
    ),
    (
        "ar-dispute-notice.txt",
        include_str!("../../templates/ar-dispute-notice.txt"),
    ),
    ("ar-due.txt", include_str!("../../templates/ar-due.txt")),
    ("ar-final.txt", include_str!("../../templates/ar-final.txt")),
    (
        "ar-friendly.txt",
        include_str!("../../templates/ar-friendly.txt"),
    ),
    (
        "ar-reminder.txt",
        include_str!("../../templates/ar-reminder.txt"),
    ),
    (
        "ar-second.txt",
        include_str!("../../templates/ar-second.txt"),
    ),
];

/// Where the built-in templates say they come from.
pub const BUILTIN_TEMPLATES: &str = "<built-in>";

impl Templates {
    /// The shipped templates.
    pub fn builtin() -> Templates {
        let mut t = Templates {
            dir: Path::new(BUILTIN_TEMPLATES).to_path_buf(),
            ..Templates::default()
        };
        for (name, text) in TEMPLATE_FILES {
            t.insert(name, text.to_string());
        }
        t
    }

    /// A configured directory, or the built-in templates when none is configured.
    pub fn from_option(dir: Option<&Path>) -> Result<Templates, super::TemplateError> {
        match dir {
            Some(dir) => Templates::load(dir),
            None => Ok(Templates::builtin()),
        }
    }
}

/// Write the built-in templates into `dir` (created); refuses to overwrite anything.
pub fn export(dir: &Path) -> Result<Vec<std::path::PathBuf>, crate::rules::builtin::ExportError> {
    let files: Vec<_> = TEMPLATE_FILES
        .iter()
        .map(|(name, text)| (dir.join(name), text.as_bytes().to_vec()))
        .collect();
    crate::rules::builtin::write_new_files(&files)?;
    Ok(files.into_iter().map(|(p, _)| p).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templates_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")
    }

    /// A template added to templates/ without this list would be missing from the binary.
    #[test]
    fn builtin_templates_are_exactly_the_templates_directory() {
        let mut on_disk: Vec<(String, String)> = std::fs::read_dir(templates_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&p).unwrap())
            })
            .collect();
        on_disk.sort();
        let built_in: Vec<(String, String)> = TEMPLATE_FILES
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        assert_eq!(built_in, on_disk);
    }

    #[test]
    fn builtin_templates_serve_every_builtin_reply() {
        let rules = crate::rules::builtin::builtin();
        assert!(!rules.reply_actions().is_empty());
        assert!(Templates::builtin().check(&rules).is_empty());
        assert!(Templates::default().check(&rules).len() == rules.reply_actions().len());
    }

    #[test]
    fn exported_templates_load_like_the_builtin_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let written = export(&tmp.path().join("t")).unwrap();
        assert_eq!(written.len(), TEMPLATE_FILES.len());
        let loaded = Templates::load(&tmp.path().join("t")).unwrap();
        assert!(loaded.check(&crate::rules::builtin::builtin()).is_empty());
        assert!(export(&tmp.path().join("t")).is_err(), "overwrote");
    }
}
