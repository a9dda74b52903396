//! Self-assessment aggregates for an organisation's cohort (course-domain §2.5): per sub-area the
//! distribution and median of current and target, baseline against final, and nothing at all when
//! fewer than k people answered, so no one's answer can be singled out.
use std::collections::BTreeMap;

use super::assessment::{self, NOT_RELEVANT, Ratings};
use crate::course::{AssessmentRound, Framework};

/// One sub-area in one round.
#[derive(Clone, Debug, PartialEq)]
pub struct SubareaFigures {
    /// Sub-area slug.
    pub subarea: String,
    /// How many answered current (including "not relevant").
    pub respondents: usize,
    /// Count per scale value (`not-started`, phase slugs, `not-relevant`) for current.
    pub current: BTreeMap<String, usize>,
    /// The same for target.
    pub target: BTreeMap<String, usize>,
    /// Median level of current (0 = not started, 1.. phases); `None` when everyone said not relevant.
    pub current_median: Option<f64>,
    /// Median level of target.
    pub target_median: Option<f64>,
}

/// One round's aggregates, or the reason they are withheld.
#[derive(Clone, Debug, PartialEq)]
pub enum RoundFigures {
    /// Fewer than k respondents.
    Suppressed {
        /// How many answered.
        respondents: usize,
    },
    /// The figures per sub-area, in framework order.
    Shown {
        /// How many answered.
        respondents: usize,
        /// Per sub-area.
        subareas: Vec<SubareaFigures>,
    },
}

/// The median of levels, averaging the two middle values of an even count.
pub fn median(mut levels: Vec<usize>) -> Option<f64> {
    if levels.is_empty() {
        return None;
    }
    levels.sort_unstable();
    let middle = levels.len() / 2;
    Some(if levels.len() % 2 == 1 {
        levels[middle] as f64
    } else {
        (levels[middle - 1] + levels[middle]) as f64 / 2.0
    })
}

/// Aggregates the submitted ratings of one round; `k` is the least number of respondents shown.
pub fn round(framework: &Framework, answers: &[Ratings], k: usize) -> RoundFigures {
    let respondents = answers.len();
    if respondents < k.max(1) {
        return RoundFigures::Suppressed { respondents };
    }
    let subareas = framework
        .subareas
        .iter()
        .map(|subarea| {
            let mut current = BTreeMap::new();
            let mut target = BTreeMap::new();
            let mut current_levels = Vec::new();
            let mut target_levels = Vec::new();
            let mut answered = 0;
            for ratings in answers {
                let Some(rating) = ratings.get(&subarea.slug) else {
                    continue;
                };
                if !rating.current.is_empty() {
                    answered += 1;
                    *current.entry(rating.current.clone()).or_insert(0) += 1;
                    if rating.current != NOT_RELEVANT {
                        current_levels.extend(assessment::level(framework, &rating.current));
                    }
                }
                if !rating.target.is_empty() {
                    *target.entry(rating.target.clone()).or_insert(0) += 1;
                    if rating.target != NOT_RELEVANT {
                        target_levels.extend(assessment::level(framework, &rating.target));
                    }
                }
            }
            SubareaFigures {
                subarea: subarea.slug.clone(),
                respondents: answered,
                current,
                target,
                current_median: median(current_levels),
                target_median: median(target_levels),
            }
        })
        .collect();
    RoundFigures::Shown {
        respondents,
        subareas,
    }
}

/// The figures of both self-assessment rounds of `course`, from the submitted answers, each shown
/// only when at least `k` people answered it.
pub async fn of_course(
    db: &sea_orm::DatabaseConnection,
    course: &crate::learning::context::ContextCourse,
    k: usize,
) -> Result<Vec<(AssessmentRound, RoundFigures)>, sea_orm::DbErr> {
    of_people(db, course, k, None).await
}

/// As `of_course`, from the answers of `people` only (one organisation's, in a course that serves
/// several); k applies to them alone.
pub async fn of_people(
    db: &sea_orm::DatabaseConnection,
    course: &crate::learning::context::ContextCourse,
    k: usize,
    people: Option<&std::collections::HashSet<i64>>,
) -> Result<Vec<(AssessmentRound, RoundFigures)>, sea_orm::DbErr> {
    let mut rows =
        crate::store::self_assessment::submitted_in_context(db, course.context_id).await?;
    if let Some(people) = people {
        rows.retain(|row| people.contains(&row.user_id));
    }
    let framework = &course.package.framework;
    Ok([AssessmentRound::Baseline, AssessmentRound::Final]
        .into_iter()
        .map(|round| {
            let answers: Vec<Ratings> = rows
                .iter()
                .filter(|row| row.round == crate::learning::assessment::round_name(round))
                .filter_map(|row| serde_json::from_str(&row.ratings).ok())
                .collect();
            (round, self::round(framework, &answers, k))
        })
        .collect())
}

/// Every value of the answer scale, in order.
pub fn scale(framework: &Framework) -> Vec<&str> {
    let mut values = vec![super::assessment::NOT_STARTED];
    values.extend(framework.phases.iter().map(|p| p.slug.as_str()));
    values.push(super::assessment::NOT_RELEVANT);
    values
}

/// The figures as CSV, one line per round, sub-area, measure and value. A suppressed round says
/// so and nothing more: not even its count (with k = 3, "2 answered" plus a colleague's knowledge
/// is too much).
pub fn csv(framework: &Framework, rounds: &[(AssessmentRound, RoundFigures)]) -> String {
    let mut csv = String::from("round,subarea,respondents,measure,value,count,median_level\n");
    for (round, figures) in rounds {
        let round = round.name();
        match figures {
            RoundFigures::Suppressed { .. } => {
                csv.push_str(&format!("{round},,,suppressed,,,\n"));
            }
            RoundFigures::Shown { subareas, .. } => {
                for figures in subareas {
                    for (measure, counts, median) in [
                        ("current", &figures.current, figures.current_median),
                        ("target", &figures.target, figures.target_median),
                    ] {
                        for value in scale(framework) {
                            csv.push_str(&format!(
                                "{round},{},{},{measure},{value},{},{}\n",
                                figures.subarea,
                                figures.respondents,
                                counts.get(value).copied().unwrap_or(0),
                                median.map(|m| m.to_string()).unwrap_or_default()
                            ));
                        }
                    }
                }
            }
        }
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        course::{demo_files, load},
        learning::assessment::Rating,
    };

    fn answers(values: &[(&str, &str)]) -> Vec<Ratings> {
        values
            .iter()
            .map(|(current, target)| {
                let mut ratings = Ratings::new();
                ratings.insert(
                    "samverkan".into(),
                    Rating {
                        current: (*current).into(),
                        target: (*target).into(),
                    },
                );
                ratings
            })
            .collect()
    }

    #[test]
    fn fewer_than_k_respondents_show_nothing() {
        let framework = load(&demo_files()).unwrap().framework;
        let two = answers(&[
            ("mobilisering", "acceleration"),
            ("koordination", "acceleration"),
        ]);
        assert_eq!(
            round(&framework, &two, 3),
            RoundFigures::Suppressed { respondents: 2 }
        );
    }

    #[test]
    fn distribution_and_median_per_sub_area() {
        let framework = load(&demo_files()).unwrap().framework;
        let given = answers(&[
            ("mobilisering", "acceleration"),
            ("koordination", "acceleration"),
            ("not-started", "koordination"),
            ("not-relevant", "not-relevant"),
        ]);
        let RoundFigures::Shown {
            respondents,
            subareas,
        } = round(&framework, &given, 3)
        else {
            panic!("shown");
        };
        assert_eq!(respondents, 4);
        let samverkan = subareas.iter().find(|s| s.subarea == "samverkan").unwrap();
        assert_eq!(samverkan.respondents, 4);
        assert_eq!(samverkan.current["not-relevant"], 1);
        assert_eq!(samverkan.current["mobilisering"], 1);
        // Levels 0, 1, 2 → median 1 (mobilisering); not relevant is left out.
        assert_eq!(samverkan.current_median, Some(1.0));
        // Levels 3, 3, 2 → 3.
        assert_eq!(samverkan.target_median, Some(3.0));
        let other = subareas
            .iter()
            .find(|s| s.subarea == "riktning-och-mal")
            .unwrap();
        assert_eq!((other.respondents, other.current_median), (0, None));
    }

    #[test]
    fn an_even_count_averages_the_middle_pair() {
        assert_eq!(median(vec![1, 2]), Some(1.5));
        assert_eq!(median(vec![3, 0, 1, 2]), Some(1.5));
        assert_eq!(median(vec![]), None);
    }
}
