package engine

import "testing"

func TestValidUSCC(t *testing.T) {
	// Published codes of well-known companies (from their business licences).
	real := []string{
		"91440300708461136T", // 深圳市腾讯计算机系统有限公司
		"914403001922038216", // 华为技术有限公司
		"91330100716105852F", // 阿里巴巴(中国)有限公司
		"91110108551385082Q", // 小米科技有限责任公司
		"91110000802100433B", // 百度在线网络技术(北京)有限公司
	}
	for _, code := range real {
		t.Run("OK_"+code, func(t *testing.T) {
			if !ValidUSCC(code) {
				t.Errorf("ValidUSCC(%q) = false, want true", code)
			}
		})
		// Every single-character corruption of a valid code must be caught:
		// the check character detects all single substitutions.
		for i := 0; i < len(code); i++ {
			for _, c := range []byte(usccAlphabet) {
				if c == code[i] {
					continue
				}
				bad := code[:i] + string(c) + code[i+1:]
				if ValidUSCC(bad) {
					t.Fatalf("ValidUSCC(%q) = true for a corrupted code", bad)
				}
			}
		}
	}
	for name, code := range map[string]string{
		"ErrTooShort":     "91440300708461136",
		"ErrTooLong":      "91440300708461136TT",
		"ErrLowercase":    "91440300708461136t",
		"ErrForbiddenI":   "9144030070846113I6",
		"ErrSwapped":      "91440300708461163T",
		"ErrEmpty":        "",
		"ErrFullWidthNum": "９1440300708461136T",
	} {
		t.Run(name, func(t *testing.T) {
			if ValidUSCC(code) {
				t.Errorf("ValidUSCC(%q) = true, want false", code)
			}
		})
	}
}
