REM SmetaBot: open an Office file hidden, fit every visible sheet to the page width, export PDF.
REM smetabot/render/office.py installs this as Standard.Module1 of a throwaway LibreOffice
REM profile and runs macro:///Standard.Module1.Convert with the paths in the environment.
REM LibreOffice exits 0 whatever happens, so progress goes to a status file Python reads.
REM SMETABOT_PAPER (e.g. "21000x29700", A4 in 1/100 mm) replaces US Letter, which is what an
REM OOXML sheet that names no paper size gets; Russian estimates are A4.
Option Explicit

Sub Convert()
	Dim oDoc As Object, sFilter As String, sStatus As String
	Dim aLoad(3) As New com.sun.star.beans.PropertyValue
	Dim aStore(0) As New com.sun.star.beans.PropertyValue
	sStatus = Environ("SMETABOT_STATUS")
	aLoad(0).Name = "Hidden" : aLoad(0).Value = True
	aLoad(1).Name = "ReadOnly" : aLoad(1).Value = True
	REM never run the document's own macros, never fetch linked content from the network
	aLoad(2).Name = "MacroExecutionMode" : aLoad(2).Value = 0
	aLoad(3).Name = "UpdateDocMode" : aLoad(3).Value = 0
	On Error GoTo NotLoaded
	oDoc = StarDesktop.loadComponentFromURL(Environ("SMETABOT_IN"), "_blank", 0, aLoad())
	If IsNull(oDoc) Then GoTo NotLoaded
	On Error GoTo Failed
	Status(sStatus, "loaded")
	If oDoc.supportsService("com.sun.star.sheet.SpreadsheetDocument") Then
		FitSheets(oDoc, sStatus)
		sFilter = "calc_pdf_Export"
	ElseIf oDoc.supportsService("com.sun.star.text.TextDocument") Then
		sFilter = "writer_pdf_Export"
	Else
		Status(sStatus, "unsupported")
		oDoc.close(True)
		Exit Sub
	End If
	aStore(0).Name = "FilterName" : aStore(0).Value = sFilter
	oDoc.storeToURL(Environ("SMETABOT_OUT"), aStore())
	Status(sStatus, "exported")
	oDoc.close(True)
	Exit Sub
NotLoaded:
	Status(sStatus, "notloaded " & Err & " " & Error$)
	Exit Sub
Failed:
	Status(sStatus, "failed " & Err & " line " & Erl & " " & Error$)
End Sub

Sub FitSheets(oDoc As Object, sStatus As String)
	Dim oSheets As Object, oStyles As Object, oSheet As Object, oStyle As Object
	Dim i As Long, n As Long, sDone As String, sName As String, sKey As String
	On Error GoTo FitFailed
	oSheets = oDoc.Sheets
	oStyles = oDoc.StyleFamilies.getByName("PageStyles")
	n = oSheets.getCount()
	Dim aLand(n) As Boolean, aScale(n) As Long, nWidth As Long
	REM decide from the styles as the author left them, before changing any: sheets may share one
	For i = 0 To n - 1
		oSheet = oSheets.getByIndex(i)
		If oSheet.IsVisible Then
			oStyle = oStyles.getByName(oSheet.PageStyle)
			SetPaper(oStyle, Environ("SMETABOT_PAPER"))
			nWidth = 0
			aLand(i) = WantLandscape(oSheet, oStyle, nWidth)
			aScale(i) = FillScale(oStyle, aLand(i), nWidth)
		End If
	Next i
	REM sDone lists "|style=landscape|" pairs already applied; a shared style that must differ is cloned
	sDone = "|"
	For i = 0 To n - 1
		oSheet = oSheets.getByIndex(i)
		If oSheet.IsVisible Then
			sName = oSheet.PageStyle
			sKey = "|" & sName & "=" & aLand(i) & ":" & aScale(i) & "|"
			If InStr(sDone, "|" & sName & "=") > 0 And InStr(sDone, sKey) = 0 Then
				sName = CloneStyle(oDoc, oStyles, oStyles.getByName(sName), "SmetaBot" & i)
				oSheet.PageStyle = sName
				sKey = "|" & sName & "=" & aLand(i) & ":" & aScale(i) & "|"
			End If
			oStyle = oStyles.getByName(sName)
			If InStr(sDone, sKey) = 0 Then FitStyle(oStyle, aLand(i), aScale(i))
			sDone = sDone & Mid(sKey, 2)
			Status(sStatus, "sheet " & i & " landscape=" & aLand(i) & " x=" & oStyle.ScaleToPagesX & " y=" & oStyle.ScaleToPagesY & " scale=" & oStyle.PageScale)
		End If
	Next i
	Exit Sub
FitFailed:
	Status(sStatus, "fitfailed " & Err & " line " & Erl & " " & Error$)
End Sub

Sub SetPaper(oStyle As Object, sPaper As String)
	Dim nW As Long, nH As Long, nShort As Long, nLong As Long
	If sPaper = "" Then Exit Sub
	nShort = CLng(Left(sPaper, InStr(sPaper, "x") - 1)) : nLong = CLng(Mid(sPaper, InStr(sPaper, "x") + 1))
	nW = oStyle.Width : nH = oStyle.Height
	REM only US Letter (21590 x 27940), in either orientation, is taken for "no size named"
	If Abs(MinLong(nW, nH) - 21590) > 20 Or Abs(MaxLong(nW, nH) - 27940) > 20 Then Exit Sub
	If nW > nH Then
		oStyle.Width = nLong : oStyle.Height = nShort
	Else
		oStyle.Width = nShort : oStyle.Height = nLong
	End If
End Sub

Function FillScale(oStyle As Object, bLand As Boolean, nWidth As Long) As Long
	REM the zoom (percent) that makes a narrow table fill the page width; 0: fit to one page wide
	Dim nPrintable As Long
	FillScale = 0
	If bLand Then nPrintable = MaxLong(oStyle.Width, oStyle.Height) Else nPrintable = MinLong(oStyle.Width, oStyle.Height)
	nPrintable = nPrintable - oStyle.LeftMargin - oStyle.RightMargin
	If nWidth <= 0 Or nWidth * 100 >= nPrintable * 95 Then Exit Function
	FillScale = Int(nPrintable * 98 / nWidth)
	If FillScale > 200 Then FillScale = 200
End Function

Function MinLong(a As Long, b As Long) As Long
	MinLong = IIf(a < b, a, b)
End Function

Function WantLandscape(oSheet As Object, oStyle As Object, nWidth As Long) As Boolean
	Dim aAreas, oCur As Object, nPrintable As Long, i As Long
	REM the width that will be printed: the author's print areas, else the used area
	aAreas = oSheet.getPrintAreas()
	For i = 0 To UBound(aAreas)
		With aAreas(i)
			nWidth = MaxLong(nWidth, oSheet.getCellRangeByPosition(.StartColumn, .StartRow, .EndColumn, .EndRow).Size.Width)
		End With
	Next i
	If UBound(aAreas) < 0 Then
		oCur = oSheet.createCursor()
		oCur.gotoEndOfUsedArea(False)
		nWidth = oSheet.getCellRangeByPosition(0, 0, oCur.RangeAddress.EndColumn, oCur.RangeAddress.EndRow).Size.Width
	End If
	REM an author who chose landscape, or already fitted the columns to one page, keeps the orientation
	If oStyle.ScaleToPagesX = 1 Or oStyle.IsLandscape Then
		WantLandscape = oStyle.IsLandscape
		Exit Function
	End If
	nPrintable = oStyle.Width
	If oStyle.Height < nPrintable Then nPrintable = oStyle.Height
	nPrintable = nPrintable - oStyle.LeftMargin - oStyle.RightMargin
	REM a table wider than a portrait page shrinks less, so stays more legible, on a landscape one
	WantLandscape = nWidth > nPrintable
End Function

Function MaxLong(a As Long, b As Long) As Long
	MaxLong = IIf(a > b, a, b)
End Function

Sub FitStyle(oStyle As Object, bLand As Boolean, nScale As Long)
	Dim nW As Long, nH As Long
	nW = oStyle.Width : nH = oStyle.Height
	REM IsLandscape alone does not turn the paper in Calc: swap the sides too
	If bLand <> (nW > nH) Then
		oStyle.Width = nH
		oStyle.Height = nW
	End If
	oStyle.IsLandscape = bLand
	REM the author's "1 page wide, N tall" already keeps every column on one page width
	If oStyle.ScaleToPagesX = 1 And oStyle.ScaleToPagesY >= 1 And nScale = 0 Then Exit Sub
	REM clear the other scaling modes first: the last one set wins
	oStyle.PageScale = 0
	oStyle.ScaleToPages = 0
	oStyle.ScaleToPagesY = 0
	If nScale > 0 Then
		REM a narrow table is enlarged to fill the page width rather than sit in its left part
		oStyle.ScaleToPagesX = 0
		oStyle.PageScale = nScale
	Else
		oStyle.ScaleToPagesX = 1
	End If
End Sub

Function CloneStyle(oDoc As Object, oStyles As Object, oStyle As Object, sName As String) As String
	Dim oNew As Object, p
	oNew = oDoc.createInstance("com.sun.star.style.PageStyle")
	oStyles.insertByName(sName, oNew)
	REM copy margins, headers, footers...; properties that refuse a value keep the default
	On Error Resume Next
	For Each p In oStyle.getPropertySetInfo().getProperties()
		If (p.Attributes And com.sun.star.beans.PropertyAttribute.READONLY) = 0 Then
			oNew.setPropertyValue(p.Name, oStyle.getPropertyValue(p.Name))
		End If
	Next p
	CloneStyle = sName
End Function

Sub Status(sFile As String, sText As String)
	Dim n As Integer
	On Error Resume Next
	n = FreeFile()
	Open sFile For Append As #n
	Print #n, sText
	Close #n
End Sub
