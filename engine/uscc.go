package engine

import (
	"strings"

	"zonevet/rules/catalog"
)

// usccAlphabet is GB 32100-2015's character set: digits and capital letters
// without I, O, Z, S, V; a character's value is its index.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the weights of positions 1–17 for the check character.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// orgCodeWeights are GB 11714's weights of the organisation code's eight body
// characters for its own check digit (position 9 of the code, 17 of a USCC).
var orgCodeWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// usccCategories is GB 32100-2015's table of registration authorities
// (position 1) and the categories each registers (position 2), with the
// later amendments' 中央军委改革和编制办公室 (A) and 农业 (N).
var usccCategories = map[byte]string{
	'1': "1239", // 机构编制:机关、事业单位、中央编办直接管理机构编制的群众团体、其他
	'2': "19",   // 外交:外国常驻新闻机构、其他
	'3': "123459",
	// 司法行政:律师执业机构、公证处、基层法律服务所、司法鉴定机构、仲裁委员会、其他
	'4': "19",   // 文化:外国在华文化中心、其他
	'5': "1239", // 民政:社会团体、民办非企业单位、基金会、其他
	'6': "129",  // 旅游:外国及港澳台旅游部门常驻代表机构、其他
	'7': "129",  // 宗教:宗教活动场所、宗教院校、其他
	'8': "19",   // 工会:基层工会、其他
	'9': "123",  // 工商/市场监管:企业、个体工商户、农民专业合作社
	'A': "19",   // 中央军委改革和编制办公室:军队事业单位、其他
	'N': "1239", // 农业:组级、村级、乡镇级集体经济组织、其他
	'Y': "1",    // 其他
}

// provinceCodes are the first two digits of GB/T 2260's administrative
// divisions (provinces, autonomous regions, municipalities, 台湾 71, 香港 81,
// 澳门 82); 10 is the national level, which bodies registered by central
// authorities carry (e.g. 100000).
var provinceCodes = map[string]bool{"10": true,
	"11": true, "12": true, "13": true, "14": true, "15": true, "21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true, "71": true, "81": true, "82": true}

// ValidUSCC reports whether code is a well-formed unified social credit code
// (统一社会信用代码); CheckUSCC says what is wrong with one that is not.
func ValidUSCC(code string) bool { return CheckUSCC(code) == nil }

// CheckUSCC checks the structure of a unified social credit code
// (GB 32100-2015), not only its check character: 18 characters of the code's
// alphabet; a registration authority and category of the standard's table;
// a six-digit administrative division of a real province; the embedded
// organisation code with its own GB 11714 check digit; the check character.
// The error names the field "uscc" and the first part that is wrong.
func CheckUSCC(code string) error {
	bad := func(why string) error {
		return FieldFail("uscc", "err.uscc_invalid", Args{"Code": code, "Why": catalog.Message{ID: why}})
	}
	if len(code) != 18 {
		return bad("uscc.why_length")
	}
	for i := 0; i < 18; i++ {
		if strings.IndexByte(usccAlphabet, code[i]) < 0 {
			return bad("uscc.why_alphabet")
		}
	}
	cats, ok := usccCategories[code[0]]
	if !ok {
		return bad("uscc.why_authority")
	}
	if strings.IndexByte(cats, code[1]) < 0 {
		return bad("uscc.why_category")
	}
	division := code[2:8]
	if strings.Trim(division, "0123456789") != "" || !provinceCodes[division[:2]] {
		return bad("uscc.why_division")
	}
	if !validOrgCode(code[8:17]) {
		return bad("uscc.why_org_code")
	}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(usccAlphabet, code[i]) * usccWeights[i]
	}
	if code[17] != usccAlphabet[(31-sum%31)%31] {
		return bad("uscc.why_check")
	}
	return nil
}

// validOrgCode checks a nine-character organisation code (GB 11714): eight
// body characters (digits 0–9, letters worth 10–35 in alphabet order) and a
// check digit 11 − (Σ value × weight mod 11), written X for 10 and 0 for 11.
func validOrgCode(oc string) bool {
	sum := 0
	for i := 0; i < 8; i++ {
		c := oc[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			return false
		}
		sum += v * orgCodeWeights[i]
	}
	want := "0123456789X0"[11-sum%11]
	return oc[8] == want
}
