; Inno Setup script for AidOffice (https://jrsoftware.org/isinfo.php). Build the bundle first:
;   pyinstaller build.spec --noconfirm        → dist\AidOffice\
;   iscc resources\installer.iss              → dist\AidOffice-setup-0.1.0.exe
; The program goes under Program Files; data, logs and backups stay in the user's local app data (platformdirs:
; %LOCALAPPDATA%\AidOffice), which the installer never touches, so an update or uninstall keeps the registry.

#define AppName "AidOffice"
#define AppVersion "0.1.0"

[Setup]
AppId={{4C0F6E0E-2B7C-4C57-9B7E-A1D0FF1CE001}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=Ministry of Social Affairs and Labour
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
OutputDir=..\dist
OutputBaseFilename=AidOffice-setup-{#AppVersion}
SetupIconFile=aidoffice.ico
UninstallDisplayIcon={app}\AidOffice.exe
Compression=lzma2
SolidCompression=yes
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequired=admin
LanguageDetectionMethod=none
ShowLanguageDialog=no

[Languages]
Name: "arabic"; MessagesFile: "compiler:Languages\Arabic.isl"

[Files]
Source: "..\dist\AidOffice\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\AidOffice"; Filename: "{app}\AidOffice.exe"
Name: "{group}\AidOffice - فحص ذاتي"; Filename: "{app}\AidOffice.exe"; Parameters: "--self-test"
Name: "{autodesktop}\AidOffice"; Filename: "{app}\AidOffice.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "اختصار على سطح المكتب"; Flags: unchecked

[Run]
Filename: "{app}\AidOffice.exe"; Parameters: "--self-test"; StatusMsg: "فحص ذاتي للبرنامج…"; Flags: runhidden waituntilterminated
Filename: "{app}\AidOffice.exe"; Description: "تشغيل AidOffice"; Flags: nowait postinstall skipifsilent
