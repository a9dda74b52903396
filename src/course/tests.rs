use super::*;

fn demo_with(path: &str, text: &str) -> PackageFiles {
    let mut files = demo_files();
    files.insert(path.into(), text.as_bytes().to_vec());
    files
}

fn problems(files: &PackageFiles) -> Vec<String> {
    load(files)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn the_demo_course_loads_with_six_modules_and_the_eight_sub_area_framework() {
    let course = load(&demo_files()).unwrap();
    assert_eq!(course.slug, "leda-digital-omstallning");
    let slugs: Vec<_> = course.modules.iter().map(|m| m.slug.as_str()).collect();
    assert_eq!(
        slugs,
        [
            "ledarskap",
            "mobilisering",
            "koordination",
            "acceleration",
            "leda-forandring",
            "nasta-steg"
        ]
    );
    for module in &course.modules {
        let kinds: Vec<_> = module.tasks().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            [TaskKind::Individual, TaskKind::Individual, TaskKind::Group],
            "{}",
            module.slug
        );
    }
    assert_eq!(course.framework.subareas.len(), 8);
    assert_eq!(course.framework.phases.len(), 3);
    let rounds: Vec<_> = course
        .modules
        .iter()
        .flat_map(|m| &m.blocks)
        .filter_map(|b| match b {
            Block::SelfAssessment { round } => Some(*round),
            _ => None,
        })
        .collect();
    assert_eq!(rounds, [AssessmentRound::Baseline, AssessmentRound::Final]);
    assert_eq!(
        course.files["files/arbetsblad.txt"].content_type,
        "text/plain; charset=utf-8"
    );
}

#[test]
fn a_package_without_course_toml_says_so() {
    let mut files = demo_files();
    files.remove("course.toml");
    assert_eq!(
        problems(&files),
        ["course.toml: missing: every package needs a course.toml at its root"]
    );
}

#[test]
fn toml_errors_name_the_module_file_line() {
    let text = "+++\nslug = \"x\"\nposition = 9\ntitle = { sv = \"a\", en = \"b\" }\nworkshop = { sv = \"a\", en = \"b\" }\n+++\n\n::: reflection\nslug = \"t\"\nkind = \"lonely\"\nprompts = []\n:::\n";
    let found = problems(&demo_with("modules/9-x.md", text));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("modules/9-x.md:10:"), "{found:?}");
}

#[test]
fn unknown_and_unclosed_blocks_and_missing_files_are_each_reported() {
    let text = "+++\nslug = \"x\"\nposition = 9\ntitle = { sv = \"a\", en = \"b\" }\nworkshop = { sv = \"a\", en = \"b\" }\n+++\n::: poll\nq = 1\n:::\n::: download\ntitle = { sv = \"a\", en = \"b\" }\nfile = \"files/none.pdf\"\n:::\nloose text\n::: text\n:: sv\nhej\n";
    let found = problems(&demo_with("modules/9-x.md", text));
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("modules/9-x.md:7: unknown block kind \"poll\"")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("modules/9-x.md:11: download \"files/none.pdf\"")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("modules/9-x.md:14: expected a block start")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("modules/9-x.md:15: the text block is not closed")),
        "{found:?}"
    );
}

#[test]
fn duplicate_slugs_positions_and_bad_slugs_are_refused() {
    let copy = String::from_utf8(demo_files()["modules/1-ledarskap.md"].clone()).unwrap();
    let found = problems(&demo_with("modules/7-copy.md", &copy));
    assert!(
        found
            .iter()
            .any(|p| p.contains("module slug \"ledarskap\" is also used")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|p| p.contains("position 1 is also used")),
        "{found:?}"
    );

    let bad = copy
        .replace("slug = \"ledarskap\"", "slug = \"Ledar Skap\"")
        .replace("position = 1", "position = 7");
    let found = problems(&demo_with("modules/7-copy.md", &bad));
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("modules/7-copy.md:2: slug \"Ledar Skap\"")),
        "{found:?}"
    );
}

#[test]
fn videos_need_an_allowed_source_captions_and_a_transcript() {
    let text = "+++\nslug = \"v\"\nposition = 9\ntitle = { sv = \"a\", en = \"b\" }\nworkshop = { sv = \"a\", en = \"b\" }\n+++\n::: video\ntitle = { sv = \"a\", en = \"b\" }\nsource = \"https://tracker.example/v.mp4\"\ncaptions = \"files/v.vtt\"\ntranscript = { sv = \"\", en = \"x\" }\n:::\n";
    let found = problems(&demo_with("modules/9-v.md", text));
    assert!(
        found
            .iter()
            .any(|p| p.contains("neither a file in the package nor from an allowed provider")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|p| p.contains("must be a WebVTT file")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|p| p.contains("needs a transcript")),
        "{found:?}"
    );
}

#[test]
fn a_loaded_package_survives_its_json_round_trip() {
    let course = load(&demo_files()).unwrap();
    let json = serde_json::to_string(&course).unwrap();
    let back: CoursePackage = serde_json::from_str(&json).unwrap();
    assert_eq!(back, course);
}
