//! Validation against a small dictionary in QuickFIX's XML format.

use super::*;
use crate::codec::Decoder;

const DICT: &str = r"<fix major='4' minor='4'>
 <header>
  <field name='BeginString' required='Y'/><field name='BodyLength' required='Y'/>
  <field name='MsgType' required='Y'/><field name='SenderCompID' required='Y'/>
  <field name='TargetCompID' required='Y'/><field name='MsgSeqNum' required='Y'/>
  <field name='SendingTime' required='Y'/><field name='PossDupFlag' required='N'/>
 </header>
 <trailer><field name='CheckSum' required='Y'/></trailer>
 <messages>
  <message name='Heartbeat' msgtype='0' msgcat='admin'><field name='TestReqID' required='N'/></message>
  <message name='NewOrderSingle' msgtype='D' msgcat='app'>
   <field name='ClOrdID' required='Y'/>
   <component name='Instrument' required='Y'/>
   <field name='OrdType' required='Y'/>
   <field name='Price' required='N'/>
   <field name='TransactTime' required='N'/>
   <group name='NoTradingSessions' required='N'><field name='TradingSessionID' required='N'/></group>
  </message>
 </messages>
 <components>
  <component name='Instrument'><field name='Symbol' required='Y'/><field name='SecurityType' required='N'/></component>
 </components>
 <fields>
  <field number='8' name='BeginString' type='STRING'/><field number='9' name='BodyLength' type='LENGTH'/>
  <field number='35' name='MsgType' type='STRING'/><field number='49' name='SenderCompID' type='STRING'/>
  <field number='56' name='TargetCompID' type='STRING'/><field number='34' name='MsgSeqNum' type='SEQNUM'/>
  <field number='52' name='SendingTime' type='UTCTIMESTAMP'/><field number='43' name='PossDupFlag' type='BOOLEAN'/>
  <field number='10' name='CheckSum' type='STRING'/><field number='112' name='TestReqID' type='STRING'/>
  <field number='11' name='ClOrdID' type='STRING'/><field number='55' name='Symbol' type='STRING'/>
  <field number='167' name='SecurityType' type='STRING'><value enum='CS' description='COMMON_STOCK'/></field>
  <field number='40' name='OrdType' type='CHAR'><value enum='1' description='MARKET'/><value enum='2' description='LIMIT'/></field>
  <field number='44' name='Price' type='PRICE'/><field number='60' name='TransactTime' type='UTCTIMESTAMP'/>
  <field number='386' name='NoTradingSessions' type='NUMINGROUP'/><field number='336' name='TradingSessionID' type='STRING'/>
 </fields>
</fix>";

const HEAD: &str = "8=FIX.4.4|9=1|35=D|34=2|49=TW|52=20261125-20:16:27.000|56=ISLD|";

fn check(body: &str) -> Result<(), Violation> {
    check_with(&format!("{HEAD}{body}10=000|"), Validation::default())
}

fn check_with(frame: &str, checks: Validation) -> Result<(), Violation> {
    let dict = Dictionary::from_xml(DICT).unwrap();
    let frame = frame.replace('|', "\x01");
    let mut d = Decoder::new();
    let view = d.decode(frame.as_bytes()).unwrap();
    dict.validate(None, &view, checks)
}

fn v(reason: RejectReason, tag: &str) -> Result<(), Violation> {
    Err(Violation {
        reason,
        tag: Some(tag.as_bytes().to_vec()),
    })
}

#[test]
fn a_valid_message_passes() {
    assert_eq!(check("11=A|55=IBM|40=2|44=10.5|386=2|336=X|336=Y|"), Ok(()));
    assert_eq!(
        Dictionary::from_xml(DICT).unwrap().begin_string(),
        "FIX.4.4"
    );
}

#[test]
fn t14a_unknown_tag_is_an_invalid_tag_number() {
    assert_eq!(
        check("11=A|55=IBM|40=2|999=X|"),
        v(RejectReason::InvalidTagNumber, "999")
    );
}

#[test]
fn t14b_required_field_missing_in_dictionary_order() {
    assert_eq!(check("40=2|"), v(RejectReason::RequiredTagMissing, "11"));
    // Symbol is required through the required Instrument component.
    assert_eq!(
        check("11=A|40=2|"),
        v(RejectReason::RequiredTagMissing, "55")
    );
}

#[test]
fn t14c_tag_not_defined_for_message_type() {
    assert_eq!(
        check("11=A|55=IBM|40=2|112=X|"),
        v(RejectReason::TagNotDefinedForMessageType, "112")
    );
}

#[test]
fn t14d_tag_without_value_unless_allowed() {
    assert_eq!(
        check("11=A|55=IBM|40=2|44=|"),
        v(RejectReason::TagSpecifiedWithoutValue, "44")
    );
    let relaxed = Validation {
        fields_have_values: false,
        ..Validation::default()
    };
    assert_eq!(
        check_with(&format!("{HEAD}11=A|55=IBM|40=2|44=|10=000|"), relaxed),
        Ok(())
    );
}

#[test]
fn t14e_incorrect_enum_value() {
    assert_eq!(
        check("11=A|55=IBM|40=9|"),
        v(RejectReason::ValueIsIncorrect, "40")
    );
    assert_eq!(
        check("11=A|55=IBM|40=1|167=BOO|"),
        v(RejectReason::ValueIsIncorrect, "167")
    );
}

#[test]
fn t14f_incorrect_data_format() {
    assert_eq!(
        check("11=A|55=IBM|40=2|44=+1.0|"),
        v(RejectReason::IncorrectDataFormat, "44")
    );
    assert_eq!(
        check("11=A|55=IBM|40=2|60=20040415|"),
        v(RejectReason::IncorrectDataFormat, "60")
    );
}

#[test]
fn t14g_header_body_trailer_out_of_order() {
    let frame =
        "8=FIX.4.4|9=1|35=D|11=A|55=IBM|40=2|34=2|49=TW|52=20261125-20:16:27.000|56=ISLD|10=000|";
    assert_eq!(
        check_with(frame, Validation::default()),
        v(RejectReason::TagSpecifiedOutOfRequiredOrder, "34")
    );
}

#[test]
fn t14h_repeated_tag() {
    assert_eq!(
        check("11=A|55=IBM|40=1|40=2|"),
        v(RejectReason::TagAppearsMoreThanOnce, "40")
    );
}

#[test]
fn t14i_repeating_group_count_not_equal() {
    assert_eq!(
        check("11=A|55=IBM|40=2|386=3|336=X|336=Y|"),
        v(RejectReason::IncorrectNumInGroupCount, "386")
    );
}

#[test]
fn t2q_invalid_msg_type() {
    let frame = HEAD.replace("35=D", "35=*") + "10=000|";
    assert_eq!(
        check_with(&frame, Validation::default()),
        Err(Violation {
            reason: RejectReason::InvalidMsgType,
            tag: None
        })
    );
}

#[test]
fn invalid_tag_numbers_are_reported_as_sent() {
    assert_eq!(
        check("11=A|55=IBM|40=2|-1=X|"),
        v(RejectReason::InvalidTagNumber, "-1")
    );
}

#[test]
fn broken_dictionaries_are_errors() {
    assert!(Dictionary::from_xml("<fix><messages><message name='X' msgtype='X'><field name='Nope' required='Y'/></message></messages></fix>").is_err());
    assert!(Dictionary::from_xml("<notfix/>").is_err());
    let e = Dictionary::from_file("/nonexistent/FIX44.xml").unwrap_err();
    assert!(e.to_string().contains("/nonexistent/FIX44.xml"));
}

#[test]
fn fix40_char_fields_are_strings() {
    let dict = DICT.replace("major='4' minor='4'", "major='4' minor='0'");
    let dict = Dictionary::from_xml(&dict).unwrap();
    let frame = format!("{HEAD}11=A|55=IBM|40=1|10=000|")
        .replace("FIX.4.4", "FIX.4.0")
        .replace("49=TW", "49=TW40")
        .replace('|', "\x01");
    let mut d = Decoder::new();
    let view = d.decode(frame.as_bytes()).unwrap();
    assert_eq!(dict.validate(None, &view, Validation::default()), Ok(()));
    // Still checked against the enumeration, just not for length.
    let long = frame.replace("40=1", "40=12");
    let view = d.decode(long.as_bytes()).unwrap();
    assert_eq!(
        dict.validate(None, &view, Validation::default()),
        v(RejectReason::ValueIsIncorrect, "40")
    );
}

#[test]
fn t14j_out_of_order_repeating_group_members() {
    let dict = DICT.replace(
        "<group name='NoTradingSessions' required='N'><field name='TradingSessionID' required='N'/></group>",
        "<group name='NoTradingSessions' required='N'><field name='TradingSessionID' required='N'/><field name='Price' required='N'/></group>",
    );
    let dict = Dictionary::from_xml(&dict).unwrap();
    let frame = format!("{HEAD}11=A|55=IBM|40=2|386=1|44=1|336=X|10=000|").replace('|', "\x01");
    let mut d = Decoder::new();
    let view = d.decode(frame.as_bytes()).unwrap();
    assert_eq!(
        dict.validate(None, &view, Validation::default()),
        v(RejectReason::RepeatingGroupFieldsOutOfOrder, "44")
    );
}

#[test]
fn a_wrong_group_count_is_reported_before_faults_inside_the_group() {
    let dict = DICT.replace(
        "<field number='336' name='TradingSessionID' type='STRING'/>",
        "<field number='336' name='TradingSessionID' type='STRING'><value enum='1' description='DAY'/></field>",
    );
    let dict = Dictionary::from_xml(&dict).unwrap();
    let frame =
        format!("{HEAD}11=A|55=IBM|40=2|386=3|336=PRE-OPEN|336=AFTER|10=000|").replace('|', "\x01");
    let mut d = Decoder::new();
    let view = d.decode(frame.as_bytes()).unwrap();
    assert_eq!(
        dict.validate(None, &view, Validation::default()),
        v(RejectReason::IncorrectNumInGroupCount, "386")
    );
    // With the right count, the value inside is what is wrong.
    let frame = frame.replace("386=3", "386=2");
    let view = d.decode(frame.as_bytes()).unwrap();
    assert_eq!(
        dict.validate(None, &view, Validation::default()),
        v(RejectReason::ValueIsIncorrect, "336")
    );
}

#[test]
fn roots_with_or_without_type_and_servicepack_are_read() {
    let body = DICT.trim_start_matches("<fix major='4' minor='4'>");
    let read = |root: &str| {
        Dictionary::from_xml(&format!("{root}{body}"))
            .unwrap()
            .begin_string()
            .to_owned()
    };
    // QuickFIX/J's files: no type, no servicepack.
    assert_eq!(read("<fix major='4' minor='4'>"), "FIX.4.4");
    assert_eq!(read("<fix major=\"5\" minor=\"0\">"), "FIX.5.0");
    assert_eq!(
        read("<fix type=\"FIXT\" major=\"1\" minor=\"1\">"),
        "FIXT.1.1"
    );
    // QuickFIX's: both.
    assert_eq!(
        read("<fix type='FIX' major='4' minor='2' servicepack='0'>"),
        "FIX.4.2"
    );
    assert_eq!(
        read("<fix type='FIX' major='5' minor='0' servicepack='2'>"),
        "FIX.5.0"
    );
    assert_eq!(
        read("<fix type='FIXT' major='1' minor='1' servicepack='0'>"),
        "FIXT.1.1"
    );
}

#[test]
fn a_broken_file_is_named_in_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("FIX44.xml");
    std::fs::write(&path, "<fix><messages><message msgtype='D'>").unwrap();
    let err = Dictionary::from_file(&path).unwrap_err();
    assert!(matches!(err, DictionaryError::File { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("{}: ", path.display())),
        "{err}"
    );
}

#[test]
fn load_dir_refuses_a_folder_that_is_missing_or_holds_no_dictionary() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("spec");
    let err = DictionarySet::load_dir(&missing).unwrap_err();
    assert!(matches!(err, DictionaryError::Folder { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );

    std::fs::create_dir(&missing).unwrap();
    let err = DictionarySet::load_dir(&missing).unwrap_err();
    assert!(
        matches!(err, DictionaryError::EmptyFolder { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("no .xml file"), "{err}");

    // XML, but not a dictionary this names: still nothing to validate with.
    std::fs::write(missing.join("venue.xml"), DICT).unwrap();
    std::fs::write(missing.join("FIX50SP2.xml"), DICT).unwrap();
    let err = DictionarySet::load_dir(&missing).unwrap_err();
    assert!(err.to_string().contains("none of FIX40.xml"), "{err}");

    // QuickFIX's names, in any case.
    std::fs::write(missing.join("fix44.xml"), DICT).unwrap();
    let set = DictionarySet::load_dir(&missing).unwrap();
    assert_eq!(set.len(), 1);
    let (d, app) = set.get(crate::FixVersion::Fix44).unwrap();
    assert_eq!((d.begin_string(), app.is_none()), ("FIX.4.4", true));
}

#[test]
fn a_name_not_in_the_folder_says_which_folder_and_which_names_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["FIX44.xml", "FIXT11.XML", "notes.txt"] {
        std::fs::write(dir.path().join(name), DICT).unwrap();
    }
    let folder = Folder::list(dir.path()).unwrap();
    assert_eq!(
        folder.get("FIX44"),
        Some(dir.path().join("FIX44.xml").as_path())
    );
    assert_eq!(
        folder.get("fixt11"),
        Some(dir.path().join("FIXT11.XML").as_path())
    );
    let err = folder.find("FIX42").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "no data dictionary \"FIX42\" (FIX42.xml) in {}: it holds FIX44, FIXT11",
            dir.path().display()
        )
    );
}

#[test]
fn names_are_kept_for_fields_messages_and_enumerated_values() {
    let d = Dictionary::from_xml(DICT).unwrap();
    assert_eq!(d.field_name(40), Some("OrdType"));
    assert_eq!(d.field_name(9999), None);
    assert_eq!(d.message_name(b"D"), Some("NewOrderSingle"));
    assert_eq!(d.message_name(b"Z"), None);
    assert_eq!(d.value_name(40, b"2"), Some("LIMIT"));
    assert_eq!(d.value_name(40, b"9"), None);
    assert_eq!(d.value_name(55, b"IBM"), None);
}
