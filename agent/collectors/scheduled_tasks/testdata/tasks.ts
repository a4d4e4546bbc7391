// Task Scheduler definitions in the shape Windows writes them (schema 1.2–1.4), made up for the tests: a system
// maintenance task, a hidden disabled COM-handler task with two triggers, a logon script for a group.

export const DEFRAG = `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.6" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Source>$(@%systemroot%\\system32\\defragsvc.dll,-800)</Source>
    <Author>$(@%systemroot%\\system32\\sc.exe,-2)</Author>
    <Description>$(@%systemroot%\\system32\\defragsvc.dll,-801)</Description>
    <URI>\\Microsoft\\Windows\\Defrag\\ScheduledDefrag</URI>
  </RegistrationInfo>
  <Principals>
    <Principal id="LocalSystem">
      <UserId>S-1-5-18</UserId>
      <RunLevel>HighestAvailable</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <DisallowStartIfOnBatteries>true</DisallowStartIfOnBatteries>
    <MaintenanceSettings>
      <Period>P7D</Period>
      <Deadline>P1M</Deadline>
    </MaintenanceSettings>
    <UseUnifiedSchedulingEngine>true</UseUnifiedSchedulingEngine>
  </Settings>
  <Triggers />
  <Actions Context="LocalSystem">
    <Exec>
      <Command>%windir%\\system32\\defrag.exe</Command>
      <Arguments>-c -h -o -$</Arguments>
    </Exec>
  </Actions>
</Task>
`;

export const TELEMETRY = `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Author>Contoso</Author>
  </RegistrationInfo>
  <Triggers>
    <CalendarTrigger id="daily">
      <StartBoundary>2008-01-01T03:00:00</StartBoundary>
      <Enabled>true</Enabled>
      <ScheduleByDay>
        <DaysInterval>1</DaysInterval>
      </ScheduleByDay>
    </CalendarTrigger>
    <BootTrigger>
      <Delay>PT10M</Delay>
      <Repetition>
        <Interval>PT1H</Interval>
        <Duration>P1D</Duration>
      </Repetition>
    </BootTrigger>
  </Triggers>
  <Principals>
    <Principal id="LocalService">
      <UserId>S-1-5-19</UserId>
    </Principal>
  </Principals>
  <Settings>
    <Enabled>false</Enabled>
    <Hidden>true</Hidden>
  </Settings>
  <Actions Context="LocalService">
    <ComHandler>
      <ClassId>{47E30D54-DAC1-473A-AFF7-2355BF78881F}</ClassId>
      <Data><![CDATA[<Data>run</Data>]]></Data>
    </ComHandler>
  </Actions>
</Task>
`;

export const LOGON_SCRIPT = `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.3" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Date>2026-03-01T10:00:00</Date>
    <Author>CONTOSO\\admin</Author>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <UserId>CONTOSO\\alice</UserId>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <GroupId>Users</GroupId>
    </Principal>
  </Principals>
  <Actions Context="Author">
    <Exec>
      <Command>C:\\Users\\Public\\update.cmd</Command>
      <Arguments>/quiet</Arguments>
    </Exec>
  </Actions>
</Task>
`;
