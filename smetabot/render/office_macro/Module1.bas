REM SmetaBot: open an Office file hidden, fit every visible sheet to the page width, export PDF.
REM smetabot/render/office.py installs this as Standard.Module1 of a throwaway LibreOffice
REM profile and runs macro:///Standard.Module1.Convert with the paths in the environment.
REM LibreOffice exits 0 whatever happens, so progress goes to a status file Python reads.
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
	Dim aLand(n) As Boolean
	REM decide from the styles as the author left them, before changing any: sheets may share one
	For i = 0 To n - 1
		oSheet = oSheets.getByIndex(i)
		If oSheet.IsVisible Then aLand(i) = WantLandscape(oSheet, oStyles.getByName(oSheet.PageStyle))
	Next i
	REM sDone lists "|style=landscape|" pairs already applied; a shared style that must differ is cloned
	sDone = "|"
	For i = 0 To n - 1
		oSheet = oSheets.getByIndex(i)
		If oSheet.IsVisible Then
			sName = oSheet.PageStyle
			sKey = "|" & sName & "=" & aLand(i) & "|"
			If InStr(sDone, "|" & sName & "=") > 0 And InStr(sDone, sKey) = 0 Then
				sName = CloneStyle(oDoc, oStyles, oStyles.getByName(sName), "SmetaBot" & i)
				oSheet.PageStyle = sName
				sKey = "|" & sName & "=" & aLand(i) & "|"
			End If
			oStyle = oStyles.getByName(sName)
			If InStr(sDone, sKey) = 0 Then FitStyle(oStyle, aLand(i))
			sDone = sDone & Mid(sKey, 2)
			Status(sStatus, "sheet " & i & " landscape=" & aLand(i) & " x=" & oStyle.ScaleToPagesX & " y=" & oStyle.ScaleToPagesY)
		End If
	Next i
	Exit Sub
FitFailed:
	Status(sStatus, "fitfailed " & Err & " line " & Erl & " " & Error$)
End Sub

Function WantLandscape(oSheet As Object, oStyle As Object) As Boolean
	Dim aAreas, oCur As Object, nWidth As Long, nPrintable As Long, i As Long
	REM an author who chose landscape, or already fitted the columns to one page, keeps the orientation
	If oStyle.ScaleToPagesX = 1 Or oStyle.IsLandscape Then
		WantLandscape = oStyle.IsLandscape
		Exit Function
	End If
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
	nPrintable = oStyle.Width
	If oStyle.Height < nPrintable Then nPrintable = oStyle.Height
	nPrintable = nPrintable - oStyle.LeftMargin - oStyle.RightMargin
	REM a table wider than a portrait page shrinks less, so stays more legible, on a landscape one
	WantLandscape = nWidth > nPrintable
End Function

Function MaxLong(a As Long, b As Long) As Long
	MaxLong = IIf(a > b, a, b)
End Function

Sub FitStyle(oStyle As Object, bLand As Boolean)
	Dim nW As Long, nH As Long
	nW = oStyle.Width : nH = oStyle.Height
	REM IsLandscape alone does not turn the paper in Calc: swap the sides too
	If bLand <> (nW > nH) Then
		oStyle.Width = nH
		oStyle.Height = nW
	End If
	oStyle.IsLandscape = bLand
	REM the author's "1 page wide, N tall" already keeps every column on one page width
	If oStyle.ScaleToPagesX = 1 And oStyle.ScaleToPagesY >= 1 Then Exit Sub
	REM clear the other scaling modes first: the last one set wins
	oStyle.PageScale = 0
	oStyle.ScaleToPages = 0
	oStyle.ScaleToPagesY = 0
	oStyle.ScaleToPagesX = 1
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
