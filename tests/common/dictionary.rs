//! A small FIX.4.4 data dictionary in QuickFIX's XML format, written for the
//! tests (QuickFIX's own files are not copied into the repository).

/// A FIX.4.4 dictionary with the session messages and a NewOrderSingle whose
/// ClOrdID, Symbol, Side, TransactTime and OrdType are required, in QuickFIX's
/// XML format (QuickFIX/J's root: no type, no servicepack). `{time}` says
/// whether TransactTime is required.
const FIX44: &str = r"<fix major='4' minor='4'>
 <header>
  <field name='BeginString' required='Y'/><field name='BodyLength' required='Y'/>
  <field name='MsgType' required='Y'/><field name='SenderCompID' required='Y'/>
  <field name='TargetCompID' required='Y'/><field name='MsgSeqNum' required='Y'/>
  <field name='SendingTime' required='Y'/><field name='PossDupFlag' required='N'/>
  <field name='PossResend' required='N'/><field name='OrigSendingTime' required='N'/>
 </header>
 <trailer><field name='CheckSum' required='Y'/></trailer>
 <messages>
  <message name='Heartbeat' msgtype='0' msgcat='admin'><field name='TestReqID' required='N'/></message>
  <message name='TestRequest' msgtype='1' msgcat='admin'><field name='TestReqID' required='Y'/></message>
  <message name='ResendRequest' msgtype='2' msgcat='admin'>
   <field name='BeginSeqNo' required='Y'/><field name='EndSeqNo' required='Y'/>
  </message>
  <message name='Reject' msgtype='3' msgcat='admin'>
   <field name='RefSeqNum' required='Y'/><field name='RefTagID' required='N'/>
   <field name='RefMsgType' required='N'/><field name='SessionRejectReason' required='N'/>
   <field name='Text' required='N'/>
  </message>
  <message name='SequenceReset' msgtype='4' msgcat='admin'>
   <field name='GapFillFlag' required='N'/><field name='NewSeqNo' required='Y'/>
  </message>
  <message name='Logout' msgtype='5' msgcat='admin'><field name='Text' required='N'/></message>
  <message name='Logon' msgtype='A' msgcat='admin'>
   <field name='EncryptMethod' required='Y'/><field name='HeartBtInt' required='Y'/>
   <field name='ResetSeqNumFlag' required='N'/><field name='NextExpectedMsgSeqNum' required='N'/>
   <field name='Username' required='N'/><field name='Password' required='N'/>
  </message>
  <message name='NewOrderSingle' msgtype='D' msgcat='app'>
   <field name='ClOrdID' required='Y'/><field name='Symbol' required='Y'/>
   <field name='Side' required='Y'/><field name='TransactTime' required='{time}'/>
   <field name='OrderQty' required='N'/><field name='OrdType' required='Y'/>
   <field name='Price' required='N'/>
  </message>
 </messages>
 <components/>
 <fields>
  <field number='7' name='BeginSeqNo' type='SEQNUM'/><field number='8' name='BeginString' type='STRING'/>
  <field number='9' name='BodyLength' type='LENGTH'/><field number='10' name='CheckSum' type='STRING'/>
  <field number='11' name='ClOrdID' type='STRING'/><field number='16' name='EndSeqNo' type='SEQNUM'/>
  <field number='34' name='MsgSeqNum' type='SEQNUM'/><field number='35' name='MsgType' type='STRING'/>
  <field number='36' name='NewSeqNo' type='SEQNUM'/><field number='38' name='OrderQty' type='QTY'/>
  <field number='40' name='OrdType' type='CHAR'><value enum='1' description='MARKET'/><value enum='2' description='LIMIT'/></field>
  <field number='43' name='PossDupFlag' type='BOOLEAN'/><field number='44' name='Price' type='PRICE'/>
  <field number='45' name='RefSeqNum' type='SEQNUM'/><field number='49' name='SenderCompID' type='STRING'/>
  <field number='52' name='SendingTime' type='UTCTIMESTAMP'/>
  <field number='54' name='Side' type='CHAR'><value enum='1' description='BUY'/><value enum='2' description='SELL'/></field>
  <field number='55' name='Symbol' type='STRING'/><field number='56' name='TargetCompID' type='STRING'/>
  <field number='58' name='Text' type='STRING'/><field number='60' name='TransactTime' type='UTCTIMESTAMP'/>
  <field number='97' name='PossResend' type='BOOLEAN'/><field number='98' name='EncryptMethod' type='INT'/>
  <field number='108' name='HeartBtInt' type='INT'/><field number='112' name='TestReqID' type='STRING'/>
  <field number='122' name='OrigSendingTime' type='UTCTIMESTAMP'/><field number='123' name='GapFillFlag' type='BOOLEAN'/>
  <field number='141' name='ResetSeqNumFlag' type='BOOLEAN'/><field number='371' name='RefTagID' type='INT'/>
  <field number='372' name='RefMsgType' type='STRING'/><field number='373' name='SessionRejectReason' type='INT'/>
  <field number='553' name='Username' type='STRING'/><field number='554' name='Password' type='STRING'/>
  <field number='789' name='NextExpectedMsgSeqNum' type='SEQNUM'/>
 </fields>
</fix>";

/// The FIX.4.4 dictionary above, TransactTime required or not.
pub fn fix44(time_required: bool) -> String {
    FIX44.replace("{time}", if time_required { "Y" } else { "N" })
}

/// Makes `dir/spec` holding `FIX44.xml` (TransactTime required) and nothing
/// for other versions; returns it.
pub fn spec_folder(dir: &std::path::Path) -> std::path::PathBuf {
    let spec = dir.join("spec");
    std::fs::create_dir_all(&spec).unwrap();
    std::fs::write(spec.join("FIX44.xml"), fix44(true)).unwrap();
    spec
}
