//! Okta's `filter` and `search` expressions: parsing, checking what each
//! endpoint allows, and matching users and groups.
//!
//! Grammar: `expr := term ("or" term)*`, `term := factor ("and" factor)*`,
//! `factor := "(" expr ")" | attribute operator value | attribute "pr"`.
//! Keywords and operators are case-insensitive; string values use double
//! quotes with backslash escapes.

use std::fmt;

use chrono::DateTime;
use serde_json::Value;

use crate::model::{Group, GroupType, Timestamp, User, UserStatus};

/// Where an expression comes from; each allows other attributes and operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    UserFilter,
    UserSearch,
    GroupFilter,
    GroupSearch,
    /// The System Log's `filter`.
    LogFilter,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operator {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Sw,
    Co,
    Pr,
}

impl Operator {
    fn parse(word: &str) -> Option<Operator> {
        let operator = match word.to_ascii_lowercase().as_str() {
            "eq" => Operator::Eq,
            "ne" => Operator::Ne,
            "gt" => Operator::Gt,
            "ge" => Operator::Ge,
            "lt" => Operator::Lt,
            "le" => Operator::Le,
            "sw" => Operator::Sw,
            "co" => Operator::Co,
            "pr" => Operator::Pr,
            _ => return None,
        };
        Some(operator)
    }

    fn is_ordering(self) -> bool {
        matches!(
            self,
            Operator::Gt | Operator::Ge | Operator::Lt | Operator::Le
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeField {
    Created,
    Activated,
    StatusChanged,
    LastLogin,
    LastUpdated,
    PasswordChanged,
    LastMembershipUpdated,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Field {
    Id,
    Status,
    Type,
    TypeId,
    Time(TimeField),
    Profile(String),
    Log(LogField),
}

/// Attributes of a System Log event that a log `filter` may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LogField {
    EventType,
    OutcomeResult,
    ActorId,
    /// Matches when any entry of the `target` array matches.
    TargetId,
    TargetType,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Literal {
    Text(String),
    Number(f64),
    Bool(bool),
    Null,
    Time(Timestamp),
    Absent,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare {
        field: Field,
        operator: Operator,
        value: Literal,
    },
}

/// Why an expression was rejected; the text goes into the error's cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct QueryError(pub String);

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
}

fn tokenize(input: &str) -> Result<Vec<Token>, QueryError> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' {
            chars.next();
            tokens.push(Token::Open);
        } else if c == ')' {
            chars.next();
            tokens.push(Token::Close);
        } else if c == '"' {
            chars.next();
            let mut text = String::new();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some(escaped) => text.push(escaped),
                        None => break,
                    },
                    _ => text.push(c),
                }
            }
            if !closed {
                return Err(QueryError(format!("unterminated string in {input:?}")));
            }
            tokens.push(Token::Text(text));
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '(' || c == ')' || c == '"' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            tokens.push(Token::Word(word));
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
    dialect: Dialect,
}

impl Parser {
    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.tokens.get(self.position), Some(Token::Word(word)) if word.eq_ignore_ascii_case(keyword))
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).cloned();
        self.position += 1;
        token
    }

    fn expression(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.term()?;
        while self.peek_keyword("or") {
            self.position += 1;
            let right = self.term()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.factor()?;
        while self.peek_keyword("and") {
            self.position += 1;
            let right = self.factor()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn factor(&mut self) -> Result<Expr, QueryError> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.expression()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err(QueryError("missing closing parenthesis".to_string())),
                }
            }
            Some(Token::Word(attribute)) => self.comparison(&attribute),
            Some(other) => Err(QueryError(format!(
                "expected an attribute, found {other:?}"
            ))),
            None => Err(QueryError("expression ends early".to_string())),
        }
    }

    fn comparison(&mut self, attribute: &str) -> Result<Expr, QueryError> {
        let operator = match self.next() {
            Some(Token::Word(word)) => Operator::parse(&word)
                .ok_or_else(|| QueryError(format!("unknown operator {word:?}")))?,
            _ => return Err(QueryError(format!("missing operator after {attribute:?}"))),
        };
        let field = self.field(attribute, operator)?;
        if operator == Operator::Pr {
            return Ok(Expr::Compare {
                field,
                operator,
                value: Literal::Absent,
            });
        }
        let raw = match self.next() {
            Some(Token::Text(text)) => RawValue::Text(text),
            Some(Token::Word(word)) => RawValue::Bare(word),
            _ => {
                return Err(QueryError(format!(
                    "missing value after {attribute} {operator:?}"
                )))
            }
        };
        let value = literal_for(&field, raw)?;
        Ok(Expr::Compare {
            field,
            operator,
            value,
        })
    }

    /// Resolves an attribute name and checks that this dialect allows it with
    /// this operator.
    fn field(&self, attribute: &str, operator: Operator) -> Result<Field, QueryError> {
        let time = |name: &str| -> Option<TimeField> {
            Some(match name {
                "created" => TimeField::Created,
                "activated" => TimeField::Activated,
                "statusChanged" => TimeField::StatusChanged,
                "lastLogin" => TimeField::LastLogin,
                "lastUpdated" => TimeField::LastUpdated,
                "passwordChanged" => TimeField::PasswordChanged,
                "lastMembershipUpdated" => TimeField::LastMembershipUpdated,
                _ => return None,
            })
        };
        let unsupported = || {
            QueryError(format!(
                "attribute {attribute:?} with operator {operator:?} is not supported here"
            ))
        };
        let eq_only = operator == Operator::Eq;
        let ordering_or_eq = eq_only || operator.is_ordering();
        match self.dialect {
            Dialect::UserFilter => match attribute {
                "status" if eq_only => Ok(Field::Status),
                "id" if eq_only => Ok(Field::Id),
                "lastUpdated" if ordering_or_eq => Ok(Field::Time(TimeField::LastUpdated)),
                "profile.login" | "profile.email" | "profile.firstName" | "profile.lastName"
                    if eq_only =>
                {
                    Ok(Field::Profile(attribute["profile.".len()..].to_string()))
                }
                _ => Err(unsupported()),
            },
            Dialect::GroupFilter => match attribute {
                "id" if eq_only => Ok(Field::Id),
                "type" if eq_only => Ok(Field::Type),
                "lastUpdated" if ordering_or_eq => Ok(Field::Time(TimeField::LastUpdated)),
                "lastMembershipUpdated" if ordering_or_eq => {
                    Ok(Field::Time(TimeField::LastMembershipUpdated))
                }
                _ => Err(unsupported()),
            },
            Dialect::LogFilter => {
                // NOTE: Okta's log filter supports every SCIM operator; the
                // fake covers the attributes and operators a sync needs.
                let text_operator = matches!(
                    operator,
                    Operator::Eq | Operator::Ne | Operator::Sw | Operator::Co
                );
                match attribute {
                    "eventType" if text_operator => Ok(Field::Log(LogField::EventType)),
                    "outcome.result" if text_operator => Ok(Field::Log(LogField::OutcomeResult)),
                    "actor.id" if eq_only => Ok(Field::Log(LogField::ActorId)),
                    "target.id" if eq_only => Ok(Field::Log(LogField::TargetId)),
                    "target.type" if eq_only => Ok(Field::Log(LogField::TargetType)),
                    "uuid" if eq_only => Ok(Field::Id),
                    _ => Err(unsupported()),
                }
            }
            Dialect::UserSearch | Dialect::GroupSearch => {
                let is_user = self.dialect == Dialect::UserSearch;
                if let Some(name) = attribute.strip_prefix("profile.") {
                    if name.is_empty() {
                        return Err(unsupported());
                    }
                    return Ok(Field::Profile(name.to_string()));
                }
                match attribute {
                    "id" => Ok(Field::Id),
                    "status" if is_user && operator != Operator::Co => Ok(Field::Status),
                    "type.id" if is_user => Ok(Field::TypeId),
                    "type" if !is_user => Ok(Field::Type),
                    _ => match time(attribute) {
                        Some(TimeField::LastMembershipUpdated) if is_user => Err(unsupported()),
                        Some(field)
                            if matches!(
                                field,
                                TimeField::Created
                                    | TimeField::LastUpdated
                                    | TimeField::LastMembershipUpdated
                            ) || is_user =>
                        {
                            if operator == Operator::Co || operator == Operator::Sw {
                                Err(unsupported())
                            } else {
                                Ok(Field::Time(field))
                            }
                        }
                        _ => Err(unsupported()),
                    },
                }
            }
        }
    }
}

enum RawValue {
    Text(String),
    Bare(String),
}

fn literal_for(field: &Field, raw: RawValue) -> Result<Literal, QueryError> {
    match (field, raw) {
        (Field::Time(_), RawValue::Text(text)) => DateTime::parse_from_rfc3339(&text)
            .map(|at| Literal::Time(at.to_utc()))
            .map_err(|_| {
                QueryError(format!(
                    "invalid timestamp {text:?}, expected e.g. \"2026-01-31T09:15:02.000Z\""
                ))
            }),
        (Field::Status, RawValue::Text(text)) => text
            .parse::<UserStatus>()
            .map(|_| Literal::Text(text))
            .map_err(QueryError),
        (Field::Type, RawValue::Text(text)) => text
            .parse::<GroupType>()
            .map(|_| Literal::Text(text))
            .map_err(QueryError),
        (Field::Profile(_), RawValue::Bare(word)) => {
            if word.eq_ignore_ascii_case("true") {
                Ok(Literal::Bool(true))
            } else if word.eq_ignore_ascii_case("false") {
                Ok(Literal::Bool(false))
            } else if word.eq_ignore_ascii_case("null") {
                Ok(Literal::Null)
            } else {
                word.parse::<f64>()
                    .map(Literal::Number)
                    .map_err(|_| QueryError(format!("invalid value {word:?}")))
            }
        }
        (_, RawValue::Text(text)) => Ok(Literal::Text(text)),
        (_, RawValue::Bare(word)) => Err(QueryError(format!(
            "value {word:?} must be a double-quoted string"
        ))),
    }
}

/// Parses `input` and checks it against what `dialect` allows.
pub(crate) fn parse(input: &str, dialect: Dialect) -> Result<Expr, QueryError> {
    let tokens = tokenize(input)?;
    if tokens.is_empty() {
        return Err(QueryError("empty expression".to_string()));
    }
    let mut parser = Parser {
        tokens,
        position: 0,
        dialect,
    };
    let expr = parser.expression()?;
    if parser.position < parser.tokens.len() {
        return Err(QueryError(format!(
            "unexpected {:?} after a complete expression",
            parser.tokens[parser.position]
        )));
    }
    Ok(expr)
}

/// The value of one attribute of a record, as a comparison reads it.
pub(crate) enum FieldValue<'a> {
    /// An Okta id, compared with case, because ids are case-sensitive.
    Id(&'a str),
    Text(&'a str),
    Time(Option<Timestamp>),
    Json(Option<&'a Value>),
    /// Several values, such as the entries of an array; one match is enough.
    Any(Vec<FieldValue<'a>>),
}

/// Something an expression can be matched against.
pub(crate) trait Record {
    fn field(&self, field: &Field) -> FieldValue<'_>;
}

impl Record for User {
    fn field(&self, field: &Field) -> FieldValue<'_> {
        match field {
            Field::Id => FieldValue::Id(&self.id),
            Field::Status => FieldValue::Text(self.status.as_str()),
            Field::TypeId => FieldValue::Id(&self.type_id),
            Field::Type | Field::Log(_) => FieldValue::Json(None),
            Field::Time(time) => FieldValue::Time(match time {
                TimeField::Created => Some(self.created),
                TimeField::Activated => self.activated,
                TimeField::StatusChanged => self.status_changed,
                TimeField::LastLogin => self.last_login,
                TimeField::LastUpdated => Some(self.last_updated),
                TimeField::PasswordChanged => self.password_changed,
                TimeField::LastMembershipUpdated => None,
            }),
            Field::Profile(name) => FieldValue::Json(self.profile.get(name)),
        }
    }
}

impl Record for Group {
    fn field(&self, field: &Field) -> FieldValue<'_> {
        match field {
            Field::Id => FieldValue::Id(&self.id),
            Field::Type => FieldValue::Text(self.group_type.as_str()),
            Field::Status | Field::TypeId | Field::Log(_) => FieldValue::Json(None),
            Field::Time(time) => FieldValue::Time(match time {
                TimeField::Created => Some(self.created),
                TimeField::LastUpdated => Some(self.last_updated),
                TimeField::LastMembershipUpdated => Some(self.last_membership_updated),
                _ => None,
            }),
            Field::Profile(name) => FieldValue::Json(self.profile.get(name)),
        }
    }
}

impl Expr {
    pub(crate) fn matches(&self, record: &impl Record) -> bool {
        match self {
            Expr::And(left, right) => left.matches(record) && right.matches(record),
            Expr::Or(left, right) => left.matches(record) || right.matches(record),
            Expr::Compare {
                field,
                operator,
                value,
            } => compare(record.field(field), *operator, value),
        }
    }
}

fn compare(actual: FieldValue<'_>, operator: Operator, expected: &Literal) -> bool {
    match actual {
        FieldValue::Id(id) => match expected {
            Literal::Text(wanted) => compare_ordering(id.cmp(wanted.as_str()), operator),
            _ => false,
        },
        FieldValue::Text(text) => {
            operator != Operator::Pr && compare_text(text, operator, expected)
        }
        FieldValue::Time(time) => match (time, expected) {
            (None, _) => false,
            (Some(_), Literal::Absent) => operator == Operator::Pr,
            (Some(at), Literal::Time(bound)) => compare_ordering(at.cmp(bound), operator),
            _ => false,
        },
        FieldValue::Json(value) => compare_json(value, operator, expected),
        FieldValue::Any(values) => values
            .into_iter()
            .any(|value| compare(value, operator, expected)),
    }
}

fn compare_text(text: &str, operator: Operator, expected: &Literal) -> bool {
    let Literal::Text(wanted) = expected else {
        return false;
    };
    // NOTE: every string attribute compares without regard to case. Okta does
    // so for logins and emails; it may be stricter for other attributes.
    let text = text.to_lowercase();
    let wanted = wanted.to_lowercase();
    match operator {
        Operator::Sw => text.starts_with(&wanted),
        Operator::Co => text.contains(&wanted),
        _ => compare_ordering(text.cmp(&wanted), operator),
    }
}

fn compare_ordering(ordering: std::cmp::Ordering, operator: Operator) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match operator {
        Operator::Eq => ordering == Equal,
        Operator::Ne => ordering != Equal,
        Operator::Gt => ordering == Greater,
        Operator::Ge => ordering != Less,
        Operator::Lt => ordering == Less,
        Operator::Le => ordering != Greater,
        Operator::Sw | Operator::Co | Operator::Pr => false,
    }
}

fn compare_json(value: Option<&Value>, operator: Operator, expected: &Literal) -> bool {
    if operator == Operator::Pr {
        return !matches!(value, None | Some(Value::Null));
    }
    match (value, expected) {
        (None | Some(Value::Null), Literal::Null) => operator == Operator::Eq,
        (None | Some(Value::Null), _) => false,
        (Some(Value::String(text)), Literal::Text(_)) => compare_text(text, operator, expected),
        (Some(Value::Number(number)), Literal::Number(wanted)) => number
            .as_f64()
            .and_then(|number| number.partial_cmp(wanted))
            .is_some_and(|ordering| compare_ordering(ordering, operator)),
        (Some(Value::Bool(flag)), Literal::Bool(wanted)) => {
            compare_ordering(flag.cmp(wanted), operator)
        }
        // An array attribute matches when any element does, as Okta's search does.
        (Some(Value::Array(items)), _) => items
            .iter()
            .any(|item| compare_json(Some(item), operator, expected)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{generate_org, OrgSpec};

    #[test]
    fn filter_grammar_accepts_okta_forms() {
        let cases = [
            r#"status eq "ACTIVE""#,
            r#"lastUpdated gt "2026-01-31T09:15:02.000Z""#,
            r#"status eq "ACTIVE" and lastUpdated ge "2026-01-31T09:15:02.000Z""#,
            r#"(status eq "ACTIVE" or status eq "SUSPENDED") and profile.login eq "a@b.c""#,
            r#"id eq "00u1234567890abcdefg" OR profile.email eq "x@y.z""#,
        ];
        for case in cases {
            assert!(parse(case, Dialect::UserFilter).is_ok(), "{case}");
        }
    }

    #[test]
    fn filter_grammar_rejects_invalid() {
        let cases = [
            "",
            "status",
            r#"status eq ACTIVE"#,
            r#"status eq "NOT_A_STATUS""#,
            r#"status gt "ACTIVE""#,
            r#"profile.department eq "Sales""#,
            r#"lastUpdated gt "yesterday""#,
            r#"(status eq "ACTIVE""#,
            r#"status eq "ACTIVE" and"#,
            r#"status eq "ACTIVE" extra"#,
            r#"status eq "ACTIVE"#,
        ];
        for case in cases {
            assert!(parse(case, Dialect::UserFilter).is_err(), "{case}");
        }
    }

    #[test]
    fn search_allows_any_profile_attribute() {
        let expr = parse(
            r#"profile.department eq "Sales" and profile.costCenter gt 10 and profile.isContractor eq false"#,
            Dialect::UserSearch,
        );
        assert!(expr.is_ok(), "{expr:?}");
        assert!(parse(r#"profile.department eq"#, Dialect::UserSearch).is_err());
    }

    #[test]
    fn group_filter_attributes() {
        assert!(parse(r#"type eq "APP_GROUP""#, Dialect::GroupFilter).is_ok());
        assert!(parse(
            r#"lastMembershipUpdated gt "2026-01-01T00:00:00.000Z" or lastUpdated gt "2026-01-01T00:00:00.000Z""#,
            Dialect::GroupFilter
        )
        .is_ok());
        assert!(parse(r#"type eq "OTHER""#, Dialect::GroupFilter).is_err());
        assert!(parse(r#"profile.name eq "x""#, Dialect::GroupFilter).is_err());
    }

    #[test]
    fn id_match_is_case_sensitive() {
        let org = generate_org(&OrgSpec::small());
        let user = org.users().next().expect("a user");
        let exact = parse(&format!("id eq \"{}\"", user.id), Dialect::UserFilter);
        let exact = exact.expect("valid filter");
        assert!(exact.matches(user));
        let swapped: String = user
            .id
            .chars()
            .map(|c| {
                if c.is_ascii_uppercase() {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        let other = parse(&format!("id eq \"{swapped}\""), Dialect::UserFilter);
        let other = other.expect("valid filter");
        assert!(!other.matches(user));
    }

    #[test]
    fn matching_users() {
        let org = generate_org(&OrgSpec::small());
        let user = org.users().next().expect("a user");
        let by_login = format!("profile.login eq \"{}\"", user.login().to_uppercase());
        let expr = parse(&by_login, Dialect::UserFilter).expect("valid filter");
        let matched: Vec<&str> = org
            .users()
            .filter(|u| expr.matches(*u))
            .map(|u| u.id.as_str())
            .collect();
        assert_eq!(matched, vec![user.id.as_str()]);
    }
}
